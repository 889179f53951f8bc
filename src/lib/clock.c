/* clock: see clock.h. */
#include "lib/clock.h"

#include <time.h>

static int64_t real_now(void *self)
{
	(void)self;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t virtual_now(void *self)
{
	return *(int64_t *)self;
}

const struct clock_ops clock_real_ops = {"real", real_now};
const struct clock_ops clock_virtual_ops = {"virtual", virtual_now};

int64_t clock_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
