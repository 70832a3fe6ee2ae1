/* agent/memtune: allocator settings for the agent's long-lived process. */
#include <malloc.h>

#include "agent/memtune.h"

/* Blocks from this size up are mapped on their own and unmapped when freed. */
#define MEMTUNE_MMAP_THRESHOLD (128 * 1024)
/* Arenas: the collection, perf and HTTP threads share these. */
#define MEMTUNE_ARENAS 2

void memtune_apply(void)
{
	/*
	 * The agent's large blocks (render buffers, the JSON lists' chunks, a
	 * gzip body) live for one publication or one page. glibc raises its mmap threshold to the size of the first such
	 * block freed, after which they come from the heap, where freed text
	 * stays resident and fragments; and every thread that allocates gets an
	 * arena of its own. A fixed threshold (which also stops the raising) and
	 * two arenas: 10,000 VMs under churn peaked at 113 MB instead of 169
	 * (when families were kept as text; 54 MB since they are compressed).
	 */
	mallopt(M_MMAP_THRESHOLD, MEMTUNE_MMAP_THRESHOLD);
	mallopt(M_ARENA_MAX, MEMTUNE_ARENAS);
}
