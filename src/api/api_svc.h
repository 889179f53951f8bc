/* api_svc.h: what the service handlers (api_service.c), the scheduler's
 * controller (api_svcctl.c) and the rest of the api layer share. */
#ifndef BERTH_API_API_SVC_H
#define BERTH_API_API_SVC_H

#include "api/api.h"

/* Add delta to the cluster counters s's status feeds. */
void api_svc_count(struct service *s, int delta);
/* Move s to status (ACTIVE, DRAINING, INACTIVE) with its counters. */
void api_svc_set_status(struct api_ctx *ctx, struct service *s, int status);
/* Ask for a scheduler pass of s as soon as the loop turns. */
void api_svc_queue(struct api_ctx *ctx, struct service *s);

#endif
