/* test_jw: lib/jw.c, the streaming JSON writer: commas at every depth,
 * string escaping, numbers and ECS timestamps; every output is parsed back
 * with cJSON and compared. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jw.h"

static void test_nesting_and_commas(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	jw_obj(&w);
	jw_kstr(&w, "a", "x");
	jw_key(&w, "b");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_obj(&w);
	jw_end_obj(&w);
	jw_arr(&w);
	jw_end_arr(&w);
	jw_bool(&w, true);
	jw_end_arr(&w);
	jw_kint(&w, "c", -5);
	jw_key(&w, "d");
	jw_raw(&w, "{\"e\":null}");
	jw_end_obj(&w);
	char *s = jw_take(&w);
	assert_string_equal(s, "{\"a\":\"x\",\"b\":[1,{},[],true],\"c\":-5,\"d\":{\"e\":null}}");
	free(s);
}

static void test_escaping_round_trips(void **state)
{
	(void)state;
	const char *in = "q\"b\\s/\n\r\t\x01\x1f caf\xc3\xa9 \xf0\x9f\x98\x80";
	struct jw w;
	jw_init(&w);
	jw_arr(&w);
	jw_str(&w, in);
	jw_str(&w, "");
	jw_end_arr(&w);
	char *s = jw_take(&w);
	cJSON *j = cJSON_Parse(s);
	assert_non_null(j);
	assert_string_equal(cJSON_GetArrayItem(j, 0)->valuestring, in);
	assert_string_equal(cJSON_GetArrayItem(j, 1)->valuestring, "");
	cJSON_Delete(j);
	free(s);
}

static void test_times(void **state)
{
	(void)state;
	const int64_t ms[] = {0, 1, 1795439940550, 1795439940000, 1795439940005, 999};
	const char *want[] = {"0", "0.001", "1795439940.55", "1795439940", "1795439940.005", "0.999"};
	for (size_t i = 0; i < sizeof ms / sizeof *ms; i++) {
		struct jw w;
		jw_init(&w);
		jw_time(&w, ms[i]);
		char *s = jw_take(&w);
		assert_string_equal(s, want[i]);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_escaping_round_trips),
		cmocka_unit_test(test_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
