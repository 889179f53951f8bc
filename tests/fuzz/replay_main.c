/* replay_main: run a libFuzzer harness over files without libFuzzer, so that
 * `make test` replays the corpora with the project's own compiler and flags
 * (build/ or build-san/).
 *
 *	replay NAME PATH...    PATH: a file, or a directory of files (sorted)
 *
 * Every file goes through LLVMFuzzerTestOneInput in one process, in name
 * order, as a fuzzing session would send them, so state the harness keeps
 * across inputs (fuzz_request's model) builds up the same way.  Each input
 * is handed over in an exact-size heap buffer so a read past its end is
 * caught under ASan.  Prints "NAME: N passed, 0 failed".  A harness
 * invariant aborts and a sanitizer report ends the process: either way the
 * last line says "NAME: K passed, 1 failed (FILE)" and the exit status is
 * non-zero. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as in libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* Present when a sanitizer runtime is linked in. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static const char *name = "replay";
static const char *current;
static unsigned long passed;

static void report_death(void)
{
	char line[4096];
	int n = snprintf(line, sizeof line, "%s: %lu passed, 1 failed (%s)\n", name, passed,
			 current ? current : "?");
	if (n > 0)
		(void)!write(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_signal(int sig)
{
	report_death();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot open %s\n", name, path);
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
		fclose(f);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, f) != size) {
		fprintf(stderr, "%s: cannot read %s\n", name, path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	current = path;
	LLVMFuzzerTestOneInput(buf, size);
	current = NULL;
	free(buf);
	passed++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: cannot open %s\n", name, dir);
		return -1;
	}
	char **files = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **more = realloc(files, (n + 1) * sizeof *files);
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		char *p = malloc(len);
		if (!more || !p) {
			free(p);
			free(more ? more : files);
			closedir(d);
			return -1;
		}
		files = more;
		snprintf(p, len, "%s/%s", dir, de->d_name);
		files[n++] = p;
	}
	closedir(d);
	qsort(files, n, sizeof *files, by_name);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(files[i], &st) == 0 && S_ISREG(st.st_mode))
			rc = run_file(files[i]);
		free(files[i]);
	}
	free(files);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s NAME PATH...\n", argv[0]);
		return 2;
	}
	name = argv[1];
	signal(SIGABRT, on_signal);
	if (__sanitizer_set_death_callback) {
		__sanitizer_set_death_callback(report_death);
	} else {
		/* Without a sanitizer, a wild access is a plain signal. */
		signal(SIGSEGV, on_signal);
		signal(SIGBUS, on_signal);
		signal(SIGFPE, on_signal);
		signal(SIGILL, on_signal);
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int rc = 0;
	for (int i = 2; i < argc && rc == 0; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: no such file %s\n", name, argv[i]);
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = run_dir(argv[i]);
		} else {
			rc = run_file(argv[i]);
		}
	}
	printf("%s: %lu passed, %d failed\n", name, passed, rc ? 1 : 0);
	return rc ? 1 : 0;
}
