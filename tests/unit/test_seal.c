/* test_seal: secrets sealed with AES-256-GCM open only with their key and
 * label; the master key file is made once and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/seal.h"

static struct seal_key key_of(unsigned char b)
{
	struct seal_key k;
	memset(k.k, b, sizeof k.k);
	return k;
}

static void round_trip(void **state)
{
	(void)state;
	struct seal_key k = key_of(7);
	const char *secrets[] = {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "x", "ab", "abc"};
	for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
		char *s = seal_encrypt(&k, "AKIAEXAMPLE", secrets[i]);
		assert_non_null(strstr(s, "v1:"));
		if (strlen(secrets[i]) > 8) /* short ones may turn up in base64 by chance */
			assert_null(strstr(s, secrets[i]));
		char *p = seal_decrypt(&k, "AKIAEXAMPLE", s);
		assert_non_null(p);
		assert_string_equal(p, secrets[i]);
		free(p);
		free(s);
	}
}

static void fresh_nonce(void **state)
{
	(void)state;
	struct seal_key k = key_of(1);
	char *a = seal_encrypt(&k, "L", "same"), *b = seal_encrypt(&k, "L", "same");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void wrong_key_label_or_bytes(void **state)
{
	(void)state;
	struct seal_key k = key_of(1), other = key_of(2);
	char *s = seal_encrypt(&k, "AKIA1", "secret");
	assert_null(seal_decrypt(&other, "AKIA1", s));
	assert_null(seal_decrypt(&k, "AKIA2", s));
	size_t n = strlen(s);
	for (size_t i = 3; i < n; i++) {
		char *t = strdup(s);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		char *p = seal_decrypt(&k, "AKIA1", t);
		assert_null(p);
		free(t);
	}
	assert_null(seal_decrypt(&k, "AKIA1", "v1:"));
	assert_null(seal_decrypt(&k, "AKIA1", "v1:!!!!"));
	assert_null(seal_decrypt(&k, "AKIA1", "v2:AAAA"));
	assert_null(seal_decrypt(&k, "AKIA1", "secret"));
	assert_null(seal_decrypt(&k, "AKIA1", NULL));
	free(s);
}

static void key_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_seal_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/master.key", dir);
	struct seal_key a, b;
	struct err e;
	assert_int_equal(seal_key_load(path, 0, &a, &e), -1);
	assert_non_null(strstr(e.msg, path));
	assert_int_equal(seal_key_load(path, 1, &a, &e), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(seal_key_load(path, 1, &b, &e), 0);
	assert_memory_equal(a.k, b.k, sizeof a.k);
	FILE *f = fopen(path, "w");
	fputs("not hex\n", f);
	fclose(f);
	assert_int_equal(seal_key_load(path, 1, &b, &e), -1);
	assert_non_null(strstr(e.msg, "64 hexadecimal"));
	unlink(path);
	rmdir(dir);
	assert_int_equal(seal_key_from_hex("00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n", &a), 0);
	assert_int_equal(a.k[31], 0xff);
	assert_int_equal(seal_key_from_hex("0011", &a), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(fresh_nonce),
		cmocka_unit_test(wrong_key_label_or_bytes),
		cmocka_unit_test(key_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
