/* agent/memtune: allocator settings for the agent's long-lived process. */
#ifndef VIMON_AGENT_MEMTUNE_H
#define VIMON_AGENT_MEMTUNE_H

/*
 * Sets glibc's allocator so that freed large texts go back to the system:
 * called once by main() before any thread starts.
 */
void memtune_apply(void);

#endif
