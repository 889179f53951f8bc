/* store_sqlite: the embedded store, one SQLite file in WAL mode.
 *
 * Table records(kind, id, rev, body), primary key (kind, id).  Each put
 * bumps the record's revision.  One transaction per loop turn is the whole
 * durability story: SQLite commits it with fsync (synchronous=FULL unless
 * the "sync=normal" option is given, which stays safe against a process
 * crash but not a power loss), so an answer sent after commit is never lost
 * to kill -9.
 *
 * One berthd a store: each process keeps the whole model in memory, so two
 * on the same file would each acknowledge writes the other then overwrites.
 * An flock on berth.lock beside the database (not on the database, whose
 * POSIX locks are SQLite's) is held for the life of the handle and refuses a
 * second opener; the kernel drops it when the process dies, kill -9 too. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "store/store.h"

struct store {
	int lock_fd;                      /* berth.lock, flocked; -1 if none */
	sqlite3 *db;
	sqlite3_stmt *put, *del, *load, *begin, *commit, *rollback;
};

static int fail(struct store *s, struct err *e, const char *what)
{
	return err_set(e, 0, "sqlite: %s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : "no database");
}

static void sq_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->del);
	sqlite3_finalize(s->load);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}

/* Take the store's lock, recording our pid in it for the next one to name. */
static int take_lock(struct store *s, const char *dir, struct err *e)
{
	char *path = xasprintf("%s/berth.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int first = errno;
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC); /* a read-only store still locks */
	if (fd < 0) {
		err_set(e, 0, "%s: %s", path, strerror(first));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int saved = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (saved == EWOULDBLOCK)
			err_set(e, 0, "the store is in use by another berthd%s%s (%s is locked)", *pid ? ", pid " : "",
				pid, path);
		else
			err_set(e, 0, "%s: cannot lock: %s", path, strerror(saved));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	char pid[32];
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	/* Only a hint for the message above: a lock file we may not write (a
	 * read-only store) keeps the old pid, which is harmless. */
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, (size_t)len, 0);
	s->lock_fd = fd;
	return 0;
}

static int prep(struct store *s, const char *sql, sqlite3_stmt **st, struct err *e)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return fail(s, e, sql);
	return 0;
}

static int sq_open(const char *dir, const char *options, struct store **out, struct err *e)
{
	struct store *s = xcalloc(1, sizeof *s);
	s->lock_fd = -1;
	if (take_lock(s, dir, e)) {
		sq_close(s);
		return -1;
	}
	char *path = xasprintf("%s/berth.db", dir);
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	free(path);
	if (rc != SQLITE_OK) {
		fail(s, e, "open");
		sq_close(s);
		return -1;
	}
	const char *sync = (options && strstr(options, "sync=normal")) ? "NORMAL" : "FULL";
	char *setup = xasprintf("PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA busy_timeout=2000; PRAGMA mmap_size=67108864;"
				"CREATE TABLE IF NOT EXISTS records(kind TEXT NOT NULL, id TEXT NOT NULL,"
				" rev INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;",
				sync);
	char *msg = NULL;
	rc = sqlite3_exec(s->db, setup, NULL, NULL, &msg);
	free(setup);
	if (rc != SQLITE_OK) {
		err_set(e, 0, "sqlite: setup: %s", msg ? msg : "?");
		sqlite3_free(msg);
		sq_close(s);
		return -1;
	}
	if (prep(s, "INSERT INTO records(kind, id, rev, body) VALUES(?1, ?2, 1, ?3)"
		    " ON CONFLICT(kind, id) DO UPDATE SET rev = rev + 1, body = excluded.body", &s->put, e) ||
	    prep(s, "DELETE FROM records WHERE kind = ?1 AND id = ?2", &s->del, e) ||
	    prep(s, "SELECT kind, id, rev, body FROM records ORDER BY kind, id", &s->load, e) ||
	    prep(s, "BEGIN IMMEDIATE", &s->begin, e) || prep(s, "COMMIT", &s->commit, e) ||
	    prep(s, "ROLLBACK", &s->rollback, e)) {
		sq_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

static int sq_load(struct store *s, store_load_cb cb, void *arg, struct err *e)
{
	int rc;
	while ((rc = sqlite3_step(s->load)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s->load, 0);
		const char *id = (const char *)sqlite3_column_text(s->load, 1);
		int64_t rev = sqlite3_column_int64(s->load, 2);
		const char *body = (const char *)sqlite3_column_text(s->load, 3);
		size_t len = (size_t)sqlite3_column_bytes(s->load, 3);
		if (cb(arg, kind, id, rev, body, len) != 0) {
			/* kind and id point into the row: name them before the
			 * reset frees it. */
			err_set(e, 0, "store: record %s %s could not be loaded", kind, id);
			sqlite3_reset(s->load);
			return -1;
		}
	}
	sqlite3_reset(s->load);
	return rc == SQLITE_DONE ? 0 : fail(s, e, "load");
}

static int step_once(struct store *s, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(s, e, what);
}

static int sq_begin(struct store *s, struct err *e)
{
	return step_once(s, s->begin, e, "begin");
}

static int sq_put(struct store *s, const char *kind, const char *id, const char *body, size_t len,
		  struct err *e)
{
	sqlite3_bind_text(s->put, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put, 3, body, (int)len, SQLITE_STATIC);
	int r = step_once(s, s->put, e, "put");
	sqlite3_clear_bindings(s->put);
	return r;
}

static int sq_del(struct store *s, const char *kind, const char *id, struct err *e)
{
	sqlite3_bind_text(s->del, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->del, 2, id, -1, SQLITE_STATIC);
	int r = step_once(s, s->del, e, "delete");
	sqlite3_clear_bindings(s->del);
	return r;
}

static int sq_commit(struct store *s, struct err *e)
{
	return step_once(s, s->commit, e, "commit");
}

static void sq_rollback(struct store *s)
{
	sqlite3_step(s->rollback);
	sqlite3_reset(s->rollback);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.load = sq_load,
	.begin = sq_begin,
	.put = sq_put,
	.del = sq_del,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.close = sq_close,
};

const struct store_ops *store_find(const char *name)
{
	if (strcmp(name, "sqlite") == 0)
		return &store_sqlite_ops;
	return NULL;
}
