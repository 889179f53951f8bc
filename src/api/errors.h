/* errors: the API's error codes (errors.def) and their protocol names. */
#ifndef BERTH_API_ERRORS_H
#define BERTH_API_ERRORS_H

enum api_error {
	ERR_NONE = 0,
#define X(name, type, status) name,
#include "api/errors.def"
#undef X
	ERR__COUNT
};

/* The __type (JSON 1.1) or Code (Query) of an error code; "ServerException"
 * for an unknown code. */
const char *api_error_type(int code);
/* The HTTP status AWS answers the code with. */
int api_error_status(int code);

#endif
