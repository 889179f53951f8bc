/* berth-shim: the process each container runs under (shim.c).  A program
 * of its own, linked with libc and libcjson only, so that starting one
 * costs an exec of a small binary rather than of the whole agent (about a
 * millisecond against 25 with the agent's libraries). */
#include "agent/runtime.h"

int main(int argc, char **argv)
{
	return rt_shim_main(argc, argv);
}
