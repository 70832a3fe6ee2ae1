/* bench_parse: throughput, CPU and peak memory of vi_reader over a recorded property reply. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "vi/value.h"
#include "vi/xml.h"

#define CHUNK (16 * 1024)

struct counts {
	unsigned long objects;
	unsigned long props;
	unsigned long numbers;
	unsigned long other;
};

/* What a collector does with a property: read its name and, for numbers, the value. */
static void count_props(struct counts *c, const struct vi_node *obj, const char *set)
{
	const struct vi_node *p;
	struct err e;
	double v;

	for (p = vi_node_child(obj, set); p; p = vi_node_next_same(p)) {
		const struct vi_node *val = vi_node_child(p, "val");

		c->props++;
		if (val && val->xsi_type &&
		    (strcmp(val->xsi_type, "int") == 0 || strcmp(val->xsi_type, "long") == 0)) {
			err_clear(&e);
			if (vi_value_double(val, &v, &e) == 0)
				c->numbers++;
		}
	}
}

static int on_node(void *ud, const char *path, const struct vi_node *n, struct err *e)
{
	struct counts *c = ud;

	(void)e;
	if (strcmp(path, "returnval/objects") == 0) {
		c->objects++;
		count_props(c, n, "propSet");
	} else if (strcmp(path, "returnval/filterSet/objectSet") == 0) {
		c->objects++;
		count_props(c, n, "changeSet");
	} else {
		c->other++;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses the file once, read in CHUNK pieces. */
static int parse_file(int fd, struct counts *c, size_t *bytes, struct err *e)
{
	static const char *const paths[] = {"returnval/token",
					    "returnval/objects",
					    "returnval/version",
					    "returnval/truncated",
					    "returnval/filterSet/objectSet",
					    NULL};
	struct vi_reader_spec spec = {.paths = paths, .on_node = on_node, .ud = c};
	static char chunk[CHUNK];
	struct vi_reader *r;
	ssize_t n;
	int rc = -1;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_set(e, ERR_SYSTEM, "lseek: %s", strerror(errno));
	r = vi_reader_new(&spec, e);
	if (!r)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		*bytes += (size_t)n;
		if (vi_reader_feed(r, chunk, (size_t)n, e) < 0)
			goto out_free;
	}
	if (n < 0) {
		err_set(e, ERR_SYSTEM, "read: %s", strerror(errno));
		goto out_free;
	}
	rc = vi_reader_finish(r, e);
out_free:
	vi_reader_free(r);
	return rc;
}

int main(int argc, char **argv)
{
	struct counts c = {0};
	struct rusage ru;
	struct err e;
	size_t bytes = 0;
	double t0, wall, cpu;
	long repeat = 1;
	int fd, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_parse FILE [repeat]\n");
		return 2;
	}
	if (argc == 3) {
		char *end;

		repeat = strtol(argv[2], &end, 10);
		if (*end || repeat < 1) {
			fprintf(stderr, "bench_parse: bad repeat count %s\n", argv[2]);
			return 2;
		}
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "bench_parse: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err_clear(&e);
	t0 = now();
	for (i = 0; i < repeat; i++) {
		if (parse_file(fd, &c, &bytes, &e) < 0) {
			fprintf(stderr, "bench_parse: %s: %s (%s)\n", argv[1], e.msg,
				err_kind_name(e.kind));
			close(fd);
			return 1;
		}
	}
	wall = now() - t0;
	close(fd);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("file %s, %zu bytes x %ld\n", argv[1], bytes / (size_t)repeat, repeat);
	printf("objects %lu, properties %lu, numeric values %lu (per parse: %lu objects, %lu "
	       "properties)\n",
	       c.objects, c.props, c.numbers, c.objects / (unsigned long)repeat,
	       c.props / (unsigned long)repeat);
	printf("wall %.3f s, cpu %.3f s, %.1f MB/s (wall), %.1f MB/s (cpu)\n", wall, cpu,
	       (double)bytes / 1e6 / wall, (double)bytes / 1e6 / (cpu > 0 ? cpu : 1e-9));
	printf("peak rss %ld KiB\n", ru.ru_maxrss);
	return 0;
}
