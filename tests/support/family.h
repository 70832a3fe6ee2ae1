/* tests/support: a snapshot family's sample lines as text. */
#ifndef VIMON_TESTS_FAMILY_H
#define VIMON_TESTS_FAMILY_H

struct snap_family;

/* The sample lines of f, decompressed, NUL-terminated; fails the test when
 * they do not inflate to f->len bytes. Valid until eight more calls. */
const char *test_family_text(const struct snap_family *f);

#endif
