/* store: durable records behind one interface.
 *
 * The store is a set of records (kind, id) -> (revision, JSON body).  At
 * start the model is rebuilt from a full load; afterwards the server writes
 * the changes of one loop turn inside one transaction (begin, put/del...,
 * commit) before it answers any request of that turn.  Backends are const
 * ops tables (SQLite now; etcd for several nodes), so that a fault-injecting
 * wrapper is one more table.  Every function returns 0 or -1 with e filled
 * (code 0: the message is for the log, not for a client). */
#ifndef BERTH_STORE_STORE_H
#define BERTH_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct store;

typedef int (*store_load_cb)(void *arg, const char *kind, const char *id, int64_t rev,
			     const char *body, size_t len);

struct store_ops {
	const char *name;
	/* Open (creating if needed) the store in dir; *out is the new handle. */
	int (*open)(const char *dir, const char *options, struct store **out, struct err *e);
	/* Call cb for every record, in (kind, id) order.  cb returning non-zero
	 * stops the load and fails it. */
	int (*load)(struct store *s, store_load_cb cb, void *arg, struct err *e);
	int (*begin)(struct store *s, struct err *e);
	int (*put)(struct store *s, const char *kind, const char *id, const char *body, size_t len,
		   struct err *e);
	int (*del)(struct store *s, const char *kind, const char *id, struct err *e);
	int (*commit)(struct store *s, struct err *e);
	/* Undo an open transaction (after a failed put). */
	void (*rollback)(struct store *s);
	void (*close)(struct store *s);
};

extern const struct store_ops store_sqlite_ops;

/* The backend named name ("sqlite"), or NULL. */
const struct store_ops *store_find(const char *name);

#endif
