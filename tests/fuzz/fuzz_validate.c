/* fuzz_validate: libFuzzer harness for the request validator alone, on the
 * ECS model: every operation the model has, implemented or not.
 *
 * Input: byte 0 picks the operation (validate_model_ecs.ops[b0 % nops]);
 * the rest is JSON text, parsed with cJSON as the protocol layer does.
 * Inputs cJSON refuses are dropped (the protocol layer answers those
 * itself).
 *
 * Invariants (a violation aborts):
 *   - validate_input returns 0 or -1; on -1 the code is
 *     SerializationException or InvalidParameterException, never a server
 *     error, and the message is non-empty and NUL-terminated within
 *     ERR_MSG_MAX; on 0 the err is untouched;
 *   - the result does not depend on anything but the input: a second run
 *     gives the same code and message;
 *   - when the body is well-formed UTF-8 (what awsjson lets through), the
 *     message is well-formed UTF-8 too, so it can be sent as JSON text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/validate.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct vmodel *m = &validate_model_ecs;
	const struct vop *op = &m->ops[data[0] % m->nops];
	FUZZ_CHECK(validate_find_op(m, op->name) == op, "op %s not found by name", op->name);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	cJSON *body = cJSON_ParseWithLength(text, len);
	if (!body)
		return 0;

	struct err e, again;
	err_clear(&e);
	err_clear(&again);
	int rc = validate_input(op, body, &e);
	int rc2 = validate_input(op, body, &again);
	FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	FUZZ_CHECK(rc == rc2 && e.code == again.code && strcmp(e.msg, again.msg) == 0,
		   "second run differs: %d %s / %d %s", e.code, e.msg, again.code, again.msg);
	FUZZ_CHECK(memchr(e.msg, '\0', sizeof e.msg) != NULL, "message not terminated");
	if (rc == 0) {
		FUZZ_CHECK(e.code == 0 && e.msg[0] == '\0', "success with an error: %s", e.msg);
	} else {
		FUZZ_CHECK(e.code == ERR_SERIALIZATION || e.code == ERR_INVALID_PARAMETER,
			   "%s: code %d (%s): %s", op->name, e.code, api_error_type(e.code), e.msg);
		FUZZ_CHECK(e.msg[0] != '\0', "%s: empty message", op->name);
		if (validate_utf8(text, len))
			FUZZ_CHECK(validate_utf8(e.msg, strlen(e.msg)), "%s: message not UTF-8: %s",
				   op->name, e.msg);
	}
	/* A non-object body is refused, never walked. */
	if (!cJSON_IsObject(body))
		FUZZ_CHECK(rc == -1 && e.code == ERR_SERIALIZATION, "%s: non-object accepted", op->name);
	cJSON_Delete(body);
	return 0;
}
