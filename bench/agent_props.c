/* bench/agent_props: prints the propSet elements of the agent's property filter (every collector reached through the view). */
/*
 * Usage: agent_props. bench/agent.sh sends them in one RetrievePropertiesEx
 * with curl to time the simulator alone on the same properties.
 */
#include <stdio.h>
#include <string.h>

#include "collectors/collector.h"

static int seen(const char *const *printed, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(printed[i], path) == 0)
			return 1;
	return 0;
}

int main(void)
{
	size_t i, j, k;

	for (i = 0; col_registry[i]; i++) {
		const struct collector *c = col_registry[i];
		const char *printed[64];
		size_t nprinted = 0;

		if (c->by_task_manager)
			continue;
		/* One propSet per type: merge collectors sharing it (vm, question). */
		for (j = 0; j < i; j++)
			if (!col_registry[j]->by_task_manager &&
			    strcmp(col_registry[j]->type, c->type) == 0)
				break;
		if (j < i)
			continue;
		printf("<propSet><type>%s</type><all>false</all>", c->type);
		for (j = i; col_registry[j]; j++) {
			const struct collector *d = col_registry[j];

			if (d->by_task_manager || strcmp(d->type, c->type) != 0)
				continue;
			for (k = 0; d->paths[k].path; k++) {
				if (seen(printed, nprinted, d->paths[k].path))
					continue;
				if (nprinted < 64)
					printed[nprinted++] = d->paths[k].path;
				printf("<pathSet>%s</pathSet>", d->paths[k].path);
			}
		}
		printf("</propSet>");
	}
	printf("\n");
	return 0;
}
