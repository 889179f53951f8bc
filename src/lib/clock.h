/* clock: time as an interface, so that pure layers take "now" as an argument
 * and the daemon can run on a virtual clock.  Times are milliseconds since
 * the Unix epoch (int64). */
#ifndef BERTH_LIB_CLOCK_H
#define BERTH_LIB_CLOCK_H

#include <stdint.h>

struct clock_ops {
	const char *name;
	int64_t (*now_ms)(void *self);
};

struct clock {
	const struct clock_ops *ops;
	void *self;
};

static inline int64_t clock_now(const struct clock *c)
{
	return c->ops->now_ms(c->self);
}

/* The wall clock (CLOCK_REALTIME). */
extern const struct clock_ops clock_real_ops;

/* A clock that moves only when told: self points to an int64_t. */
extern const struct clock_ops clock_virtual_ops;

/* Monotonic microseconds, for measuring durations only. */
int64_t clock_mono_us(void);

#endif
