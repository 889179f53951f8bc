/* errors: the table of errors.def, looked up by code. */
#include "api/errors.h"

static const struct {
	const char *type;
	int status;
} rows[] = {
	[ERR_NONE] = {"ServerException", 500},
#define X(name, type, status) [name] = {type, status},
#include "api/errors.def"
#undef X
};

const char *api_error_type(int code)
{
	if (code <= 0 || code >= ERR__COUNT)
		return "ServerException";
	return rows[code].type;
}

int api_error_status(int code)
{
	if (code <= 0 || code >= ERR__COUNT)
		return 500;
	return rows[code].status;
}
