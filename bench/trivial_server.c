/* bench/trivial_server: the baseline for /metrics latency, serving fixed bytes from memory. */
/*
 * Usage: trivial_server PORT BODY_FILE [GZIP_FILE]
 * Serves BODY_FILE (or GZIP_FILE with Content-Encoding: gzip when the request
 * accepts gzip) on every path, with the same libmicrohttpd threading as vimon
 * (internal epoll, a pool of 2 threads) and one response object created at
 * start: the least a server holding these bytes can do per request.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static struct MHD_Response *plain, *gz;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n + 1);
		if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return data;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	const char *ae;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	if (!*con_cls) {
		*con_cls = &plain;
		return MHD_YES;
	}
	ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (gz && ae && strcasestr(ae, "gzip"))
		return MHD_queue_response(c, MHD_HTTP_OK, gz);
	return MHD_queue_response(c, MHD_HTTP_OK, plain);
}

static struct MHD_Response *response(const char *path, int gzip)
{
	struct MHD_Response *r;
	size_t len = 0;
	char *data = slurp(path, &len);

	if (!data) {
		perror(path);
		exit(1);
	}
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	return r;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	sigset_t sigs;
	int sig;

	if (argc < 3) {
		fprintf(stderr, "usage: trivial_server PORT BODY_FILE [GZIP_FILE]\n");
		return 2;
	}
	plain = response(argv[2], 0);
	if (argc > 3)
		gz = response(argv[3], 1);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)strtoul(argv[1], NULL, 10));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
			     (uint16_t)strtoul(argv[1], NULL, 10), NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, 2u,
			     MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "trivial_server: cannot listen on port %s\n", argv[1]);
		return 1;
	}
	printf("ready %u\n", (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
	fflush(stdout);
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(plain);
	if (gz)
		MHD_destroy_response(gz);
	return 0;
}
