/* log: one-line diagnostics to stderr, with a level threshold.
 * Never given secrets or request bodies. */
#ifndef BERTH_LIB_LOG_H
#define BERTH_LIB_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level l);
/* The program name each line carries ("berthd" unless set; not copied). */
void log_set_name(const char *name);
/* Parse "debug|info|warn|error"; -1 if unknown. */
int log_level_parse(const char *s);
void log_msg(enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
