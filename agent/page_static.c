/* agent/page_static: the page's script, style sheet and icon (agent/static/), built into the binary. */
#include <string.h>

#include "agent/page.h"

/*
 * Each file is included byte for byte by the assembler, followed by a NUL, so
 * that it is a C string. The Makefile makes this object depend on the files.
 */
#define PAGE_INCBIN(sym, file)                                                                     \
	__asm__(".section .rodata\n"                                                               \
		".global " #sym "\n"                                                               \
		".type " #sym ", @object\n"                                                        \
		".balign 16\n" #sym ":\n"                                                          \
		".incbin \"" file "\"\n"                                                           \
		".byte 0\n"                                                                        \
		".previous\n")

PAGE_INCBIN(vimon_page_js, "agent/static/page.js");
PAGE_INCBIN(vimon_page_css, "agent/static/page.css");
PAGE_INCBIN(vimon_page_icon, "agent/static/icon.svg");

extern const char vimon_page_js[], vimon_page_css[], vimon_page_icon[];

static const struct page_static files[] = {
	{"/static/page.js", "text/javascript; charset=utf-8", vimon_page_js},
	{"/static/page.css", "text/css; charset=utf-8", vimon_page_css},
	{"/static/icon.svg", "image/svg+xml", vimon_page_icon},
};

const struct page_static *page_static_find(const char *url)
{
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(url, files[i].path) == 0)
			return &files[i];
	return NULL;
}
