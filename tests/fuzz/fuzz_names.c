/* libFuzzer target: every name encoder and decoder, with round trips where they hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "vi/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*codec_fn)(struct buf *out, const char *s);

/* encode then decode must give s back. */
static void round_trip(codec_fn enc, codec_fn dec, const char *s)
{
	struct buf e, d;

	buf_init(&e, 0);
	buf_init(&d, 0);
	if (enc(&e, s) != 0 || dec(&d, e.data) != 0 || strcmp(d.data, s) != 0)
		abort();
	buf_release(&e);
	buf_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const codec_fn decoders[] = {vi_name_percent_decode, vi_name_pipe_decode,
					    vi_name_vmx_domain_decode,
					    vi_name_datastore_item_decode};
	struct buf e, d;
	char *s;
	size_t i;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* decoders on arbitrary input: lenient, never longer than the input */
	for (i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++) {
		buf_init(&d, 0);
		if (decoders[i](&d, s) != 0 || d.len > strlen(s) || strlen(d.data) != d.len)
			abort();
		buf_release(&d);
	}
	round_trip(vi_name_percent_encode, vi_name_percent_decode, s);
	round_trip(vi_name_pipe_encode, vi_name_pipe_decode, s);
	round_trip(vi_name_vmx_domain_encode, vi_name_vmx_domain_decode, s);
	/* datastore items: back with the Windows special characters as '_' */
	buf_init(&e, 0);
	buf_init(&d, 0);
	if (vi_name_datastore_item_encode(&e, s) != 0 || vi_name_datastore_item_decode(&d, e.data))
		abort();
	for (i = 0; i < e.len; i++)
		if ((unsigned char)e.data[i] >= 0x80 || strchr("\"*<>:|?/\\", e.data[i]))
			abort();
	for (i = 0; s[i]; i++)
		if (strchr("\"*<>:|?", s[i]))
			s[i] = '_';
	if (strcmp(d.data, s) != 0)
		abort();
	buf_release(&e);
	buf_release(&d);
	free(s);
	return 0;
}
