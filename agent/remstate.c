/* agent/remstate: the never-twice record of answered questions, kept in a state file. */
#include "agent/remstate.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"

#define REMSTATE_BUCKETS     1024
#define REMSTATE_MAX_ENTRIES 1000000
#define REMSTATE_MAX_BYTES   ((size_t)256 << 20)

struct rs_item {
	struct rs_item *next;
	char *key; /* target \x1f vm_id \x1f qid */
	char *target, *vm_id, *qid;
	struct remstate_entry ent;
};

struct remstate {
	pthread_mutex_t lock;
	char *path;
	int fd;
	struct rs_item *buckets[REMSTATE_BUCKETS];
	size_t count;
	char warning[512]; /* why the file was kept as it is, or "" */
};

static const char *const states[] = {"sending", "answered", "failed", "unknown", "released"};

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % REMSTATE_BUCKETS;
}

static char *make_key(const char *target, const char *vm_id, const char *qid)
{
	struct buf b;

	buf_init(&b, 3 * REMSTATE_MAX_FIELD + 3);
	buf_adds(&b, target);
	buf_addc(&b, '\x1f');
	buf_adds(&b, vm_id);
	buf_addc(&b, '\x1f');
	buf_adds(&b, qid);
	if (b.failed) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static void item_free(struct rs_item *it)
{
	if (!it)
		return;
	free(it->key);
	free(it->target);
	free(it->vm_id);
	free(it->qid);
	free(it);
}

static struct rs_item **find(struct remstate *st, const char *key)
{
	struct rs_item **p = &st->buckets[hash(key)];

	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

static void copy_field(char *dst, size_t sz, const char *src)
{
	snprintf(dst, sz, "%s", src ? src : "");
}

/* Applies one record (target, vm_id, qid, entry) to memory. -1 when out of memory. */
static int apply(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		 const struct remstate_entry *ent)
{
	char *key = make_key(target, vm_id, qid);
	struct rs_item **p, *it;

	if (!key)
		return -1;
	p = find(st, key);
	if (strcmp(ent->state, "released") == 0) {
		if (*p) {
			it = *p;
			*p = it->next;
			item_free(it);
			st->count--;
		}
		free(key);
		return 0;
	}
	if (*p) {
		(*p)->ent = *ent;
		free(key);
		return 0;
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		free(key);
		return -1;
	}
	it->key = key;
	it->target = strdup(target);
	it->vm_id = strdup(vm_id);
	it->qid = strdup(qid);
	it->ent = *ent;
	if (!it->target || !it->vm_id || !it->qid) {
		item_free(it);
		return -1;
	}
	*p = it;
	st->count++;
	return 0;
}

/* One record as a JSON line (with its newline) in out. */
static int record_line(struct buf *out, const char *target, const char *vm_id, const char *qid,
		       const struct remstate_entry *ent)
{
	json_t *o = json_pack("{s:f,s:s,s:s,s:s,s:s,s:s,s:s}", "time", ent->time, "target", target,
			      "vm_id", vm_id, "question_id", qid, "state", ent->state, "by",
			      ent->by, "choice", ent->choice);
	char *s;

	if (!o)
		return -1;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -1;
	buf_adds(out, s);
	buf_addc(out, '\n');
	free(s);
	return out->failed ? -1 : 0;
}

/* Writes all of b to fd and fsyncs. */
static int write_sync(int fd, const struct buf *b)
{
	return remstate_append_sync(fd, b->data, b->len);
}

int remstate_append_sync(int fd, const char *data, size_t len)
{
	struct stat sb;
	size_t off = 0;
	int saved;

	/* the size before: a write cut short (disk full, file size limit) is cut
	 * off again, so that the next line does not glue onto half a line */
	if (fstat(fd, &sb) < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out_undo;
		off += (size_t)n;
	}
	if (fsync(fd) == 0)
		return 0;
out_undo:
	saved = errno;
	if (off > 0 && ftruncate(fd, sb.st_size) == 0)
		fsync(fd);
	errno = saved;
	return -1;
}

/* A string member of o, at most REMSTATE_MAX_FIELD bytes, or NULL. */
static const char *field(const json_t *o, const char *name, bool required)
{
	const json_t *v = json_object_get(o, name);
	const char *s = json_string_value(v);

	if (!v && !required)
		return "";
	if (!s || strlen(s) > REMSTATE_MAX_FIELD || (required && !*s))
		return NULL;
	return s;
}

/* Parses and applies one line (NUL-terminated, without its newline). */
static int load_line(struct remstate *st, const char *line, size_t len, int lineno, struct err *e)
{
	const char *target, *vm_id, *qid, *state, *by, *choice;
	struct remstate_entry ent;
	json_error_t je;
	json_t *o, *t;
	size_t k;
	int rc = -1;

	if (len > REMSTATE_MAX_LINE)
		return err_set(e, ERR_PARSE, "%s:%d: line longer than %d bytes", st->path, lineno,
			       REMSTATE_MAX_LINE);
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return err_set(e, ERR_PARSE, "%s:%d: not JSON: %s", st->path, lineno, je.text);
	if (!json_is_object(o)) {
		err_set(e, ERR_PARSE, "%s:%d: not a JSON object", st->path, lineno);
		goto out;
	}
	target = field(o, "target", true);
	vm_id = field(o, "vm_id", true);
	qid = field(o, "question_id", true);
	state = field(o, "state", true);
	by = field(o, "by", false);
	choice = field(o, "choice", false);
	t = json_object_get(o, "time");
	if (!target || !vm_id || !qid || !state || !by || !choice || (t && !json_is_number(t))) {
		err_set(e, ERR_PARSE,
			"%s:%d: want string members target, vm_id, question_id, state (at most %d "
			"bytes each)",
			st->path, lineno, REMSTATE_MAX_FIELD);
		goto out;
	}
	for (k = 0; k < sizeof(states) / sizeof(states[0]); k++)
		if (strcmp(state, states[k]) == 0)
			break;
	if (k == sizeof(states) / sizeof(states[0])) {
		err_set(e, ERR_PARSE,
			"%s:%d: unknown state (want sending, answered, failed, "
			"unknown or released)",
			st->path, lineno);
		goto out;
	}
	memset(&ent, 0, sizeof(ent));
	copy_field(ent.state, sizeof(ent.state), state);
	copy_field(ent.by, sizeof(ent.by), by);
	copy_field(ent.choice, sizeof(ent.choice), choice);
	ent.time = t ? json_number_value(t) : 0;
	if (st->count >= REMSTATE_MAX_ENTRIES) {
		err_set(e, ERR_PARSE, "%s:%d: more than %d entries", st->path, lineno,
			REMSTATE_MAX_ENTRIES);
		goto out;
	}
	if (apply(st, target, vm_id, qid, &ent) < 0) {
		err_set(e, ERR_NOMEM, "%s: out of memory", st->path);
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* Reads the whole file (fd at offset 0) into b. */
static int read_all(struct remstate *st, struct buf *b, struct err *e)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(st->fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, ERR_SYSTEM, "%s: %s", st->path, strerror(errno));
		if (n == 0)
			return 0;
		if (buf_add(b, chunk, (size_t)n) < 0)
			return err_set(e, ERR_TOO_LARGE, "%s: larger than %zu bytes", st->path,
				       REMSTATE_MAX_BYTES);
	}
}

/* Rewrites the file with one line per entry (temporary file, fsync, rename). */
static int compact(struct remstate *st, double max_age_s, struct err *e)
{
	double cutoff = now_real() - max_age_s;
	struct buf out, tmp;
	int fd = -1, rc = -1;

	buf_init(&out, REMSTATE_MAX_BYTES);
	buf_init(&tmp, 0);
	for (size_t i = 0; i < REMSTATE_BUCKETS; i++) {
		struct rs_item **p = &st->buckets[i];

		while (*p) {
			struct rs_item *it = *p;

			if (it->ent.time > 0 && it->ent.time < cutoff) {
				*p = it->next;
				item_free(it);
				st->count--;
				continue;
			}
			if (record_line(&out, it->target, it->vm_id, it->qid, &it->ent) < 0) {
				err_set(e, ERR_NOMEM, "%s: out of memory", st->path);
				goto out;
			}
			p = &it->next;
		}
	}
	buf_addf(&tmp, "%s.tmp", st->path);
	if (tmp.failed) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write_sync(fd, &out) < 0 || rename(tmp.data, st->path) < 0) {
		err_set(e, ERR_SYSTEM, "%s: cannot rewrite it: %s", st->path, strerror(errno));
		if (fd >= 0)
			unlink(tmp.data);
		goto out;
	}
	close(st->fd);
	st->fd = open(st->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0) {
		err_set(e, ERR_SYSTEM, "%s: %s", st->path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&out);
	buf_release(&tmp);
	return rc;
}

/* After a failed rewrite: appends go on to the file as it is, cut after
 * its last complete line (cutting needs no room on the disk). */
static int keep_as_is(struct remstate *st, size_t good, struct err *e)
{
	snprintf(st->warning, sizeof(st->warning), "%.400s; appending to it as it is", e->msg);
	err_clear(e);
	close(st->fd);
	st->fd = open(st->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (st->fd < 0 || ftruncate(st->fd, (off_t)good) < 0)
		return err_set(e, ERR_SYSTEM, "state_file %s: %s", st->path, strerror(errno));
	return 0;
}

int remstate_open(const char *path, double max_age_s, struct remstate **out, bool *dropped,
		  struct err *e)
{
	struct remstate *st = calloc(1, sizeof(*st));
	struct stat sb;
	struct buf b;
	size_t pos = 0;
	int lineno = 0;

	if (dropped)
		*dropped = false;
	if (!st)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&st->lock, NULL);
	st->fd = -1;
	buf_init(&b, REMSTATE_MAX_BYTES);
	st->path = strdup(path);
	if (!st->path) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out_fail;
	}
	st->fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->fd < 0) {
		err_set(e, ERR_SYSTEM, "state_file %s: %s", path, strerror(errno));
		goto out_fail;
	}
	if (fstat(st->fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		err_set(e, ERR_SYSTEM, "state_file %s is not a regular file", path);
		goto out_fail;
	}
	if (read_all(st, &b, e) < 0)
		goto out_fail;
	while (pos < b.len) {
		char *nl = memchr(b.data + pos, '\n', b.len - pos);
		size_t len;

		lineno++;
		if (!nl) {
			/* cut short: written before an AnswerVM that never went out */
			if (dropped)
				*dropped = true;
			break;
		}
		len = (size_t)(nl - (b.data + pos));
		*nl = '\0';
		if (len > 0 && load_line(st, b.data + pos, len, lineno, e) < 0)
			goto out_fail;
		pos += len + 1;
	}
	/* a rewrite that fails for want of room or rights (a full disk) keeps
	 * the file: what it says is known, and appends still work */
	if (compact(st, max_age_s > 0 ? max_age_s : 1e12, e) < 0 &&
	    (e->kind != ERR_SYSTEM || keep_as_is(st, pos, e) < 0))
		goto out_fail;
	buf_release(&b);
	*out = st;
	return 0;

out_fail:
	buf_release(&b);
	remstate_free(st);
	return -1;
}

void remstate_free(struct remstate *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < REMSTATE_BUCKETS; i++) {
		while (st->buckets[i]) {
			struct rs_item *it = st->buckets[i];

			st->buckets[i] = it->next;
			item_free(it);
		}
	}
	if (st->fd >= 0)
		close(st->fd);
	pthread_mutex_destroy(&st->lock);
	free(st->path);
	free(st);
}

const char *remstate_warning(const struct remstate *st)
{
	return st->warning[0] ? st->warning : NULL;
}

size_t remstate_count(const struct remstate *st)
{
	return st->count;
}

bool remstate_get(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		  struct remstate_entry *out)
{
	char *key = make_key(target, vm_id, qid);
	struct rs_item *it;
	bool found = false;

	if (!key)
		return true; /* cannot tell: say recorded, so nothing is sent */
	pthread_mutex_lock(&st->lock);
	it = *find(st, key);
	if (it) {
		found = true;
		if (out)
			*out = it->ent;
	}
	pthread_mutex_unlock(&st->lock);
	free(key);
	return found;
}

/* Appends one record to the file and fsyncs. Called with the lock held. */
static int append(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		  const struct remstate_entry *ent, struct err *e)
{
	struct buf line;
	int rc = 0;

	buf_init(&line, REMSTATE_MAX_LINE);
	if (record_line(&line, target, vm_id, qid, ent) < 0)
		rc = err_set(e, ERR_NOMEM, "state_file %s: record too large or out of memory",
			     st->path);
	else if (write_sync(st->fd, &line) < 0)
		rc = err_set(e, ERR_SYSTEM, "state_file %s: %s", st->path, strerror(errno));
	buf_release(&line);
	return rc;
}

int remstate_claim(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		   const char *by, const char *choice, struct remstate_entry *prev, struct err *e)
{
	struct remstate_entry ent;
	char *key;
	int rc;

	if (strlen(target) > REMSTATE_MAX_FIELD || strlen(vm_id) > REMSTATE_MAX_FIELD ||
	    strlen(qid) > REMSTATE_MAX_FIELD)
		return err_set(e, ERR_INVALID, "target, VM id or question id too long");
	key = make_key(target, vm_id, qid);
	if (!key)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_lock(&st->lock);
	if (*find(st, key)) {
		if (prev)
			*prev = (*find(st, key))->ent;
		rc = 0;
		goto out;
	}
	memset(&ent, 0, sizeof(ent));
	copy_field(ent.state, sizeof(ent.state), "sending");
	copy_field(ent.by, sizeof(ent.by), by);
	copy_field(ent.choice, sizeof(ent.choice), choice);
	ent.time = now_real();
	rc = -1;
	if (append(st, target, vm_id, qid, &ent, e) < 0)
		goto out;
	if (apply(st, target, vm_id, qid, &ent) < 0) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 1;
out:
	pthread_mutex_unlock(&st->lock);
	free(key);
	return rc;
}

int remstate_settle(struct remstate *st, const char *target, const char *vm_id, const char *qid,
		    const char *state, struct err *e)
{
	struct remstate_entry ent;
	char *key = make_key(target, vm_id, qid);
	struct rs_item *it;
	int rc = 0;

	if (!key)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_lock(&st->lock);
	it = *find(st, key);
	memset(&ent, 0, sizeof(ent));
	if (it)
		ent = it->ent;
	copy_field(ent.state, sizeof(ent.state), state);
	ent.time = now_real();
	rc = append(st, target, vm_id, qid, &ent, e);
	if (apply(st, target, vm_id, qid, &ent) < 0 && rc == 0)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_unlock(&st->lock);
	free(key);
	return rc;
}
