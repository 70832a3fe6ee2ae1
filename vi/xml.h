/* vi/xml: the streaming SOAP reply reader and the small element trees it hands out. */
#ifndef VIMON_VI_XML_H
#define VIMON_VI_XML_H

#include <stddef.h>

#include "util/err.h"

/*
 * One captured XML element. Names are local names (namespace prefixes
 * stripped). xsi_type is the local part of xsi:type ("int", "ArrayOfString",
 * "VirtualMachineQuestionInfo"), or NULL. type_attr is the plain "type"
 * attribute a ManagedObjectReference carries, or NULL. text is the element's
 * own character data, never NULL ("" when there is none). Children are linked
 * first..last through next, in document order.
 */
struct vi_node {
	char *name;
	char *xsi_type;
	char *type_attr;
	const char *text; /* const: "" may be shared between nodes */
	struct vi_node *parent;
	struct vi_node *first;
	struct vi_node *last;
	struct vi_node *next;
};

/* Frees a tree made by vi_node_dup() (NULL is fine). Trees handed to on_node
 * belong to the reader: never free those. vi_node_dup() allocates each node
 * with its strings as one block, so hand-built trees cannot be freed here. */
void vi_node_free(struct vi_node *n);

/* Deep copy; NULL when out of memory. The copy's parent is NULL. Caller frees. */
struct vi_node *vi_node_dup(const struct vi_node *n);

/* First child with the given local name, or NULL. Borrowed. */
const struct vi_node *vi_node_child(const struct vi_node *n, const char *name);

/* Next sibling after c with the same name as c, or NULL. Borrowed. */
const struct vi_node *vi_node_next_same(const struct vi_node *c);

/* Text of the first child with that name, or NULL when there is none. Borrowed. */
const char *vi_node_child_text(const struct vi_node *n, const char *name);

/*
 * Streaming reader. Bytes of one SOAP reply are fed as they arrive; the
 * reader keeps only the element path and the tree being captured, so memory
 * does not grow with the size of the reply. Elements whose path below the
 * method's response element (Envelope/Body/<X>Response) matches one of
 * spec->paths are captured whole and handed to on_node, then freed; paths are
 * local names joined with '/', e.g. "returnval", "returnval/objects",
 * "returnval/filterSet/objectSet". A soapenv:Fault is captured and turned into
 * an ERR_FAULT (or ERR_AUTH for InvalidLogin) error by vi_reader_finish().
 * No DTD, external entity or entity expansion; depth, text and node count per
 * capture are bounded (hostile input gives ERR_PARSE, never a crash).
 * Limits: 64 levels of nesting, 8 MiB of text per element, 16 MiB per
 * captured tree; 256 KiB fed without a complete start tag, end tag or text
 * (one huge tag: libxml2 checks its attributes for duplicates in quadratic
 * time) is "element tag too large"; a DOCTYPE is refused. Messages a caller may see: "empty
 * reply", "reply truncated", "reply is not a SOAP envelope (HTML page?)",
 * "reply is not XML: ...", "reply is not well-formed XML: ...". A fault with
 * an empty faultstring has its type as message.
 */
struct vi_reader_spec {
	const char *const *paths; /* NULL-terminated */
	/* Called once per captured element; path is the matching entry of paths.
	 * node is borrowed for the call (vi_node_dup() to keep it). When paths
	 * nest, the outermost match is captured. Return 0, or -1 with e set to
	 * stop. */
	int (*on_node)(void *ud, const char *path, const struct vi_node *node, struct err *e);
	void *ud;
};

struct vi_reader;

/* New reader; NULL with e set on failure. spec is copied (paths are borrowed
 * and must outlive the reader). Caller frees with vi_reader_free(). */
struct vi_reader *vi_reader_new(const struct vi_reader_spec *spec, struct err *e);

/* Feeds the next bytes. 0, or -1 with e set (parse error, handler error). */
int vi_reader_feed(struct vi_reader *r, const char *data, size_t len, struct err *e);

/* Ends the reply: -1 with e set when the document is incomplete, was not a
 * SOAP envelope with a body, or held a fault. */
int vi_reader_finish(struct vi_reader *r, struct err *e);

/* Frees the reader and any tree being captured (NULL is fine). */
void vi_reader_free(struct vi_reader *r);

/* Convenience: parses a whole reply held in memory (tests, fuzzing). */
int vi_reader_parse(const struct vi_reader_spec *spec, const char *data, size_t len, struct err *e);

#endif
