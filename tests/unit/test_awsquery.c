/* test_awsquery: the Query protocol layer against the real generated Auto
 * Scaling model (and the ECS one for maps, which Auto Scaling has none of):
 * form bodies into JSON, the XML of answers and errors, and the requests
 * that never reach a handler (no Action, a wrong Version, an operation the
 * model lacks or Berth does not implement, a body the validator refuses). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/errors.h"
#include "api/validate.h"
#include "server/server.h"

/* Parse body as a form and convert it for op of model m.  Returns the rc;
 * *out gets the JSON (NULL on error), e the error. */
static int convert(const struct vmodel *m, const char *op, const char *body, cJSON **out,
		   struct err *e)
{
	const struct vop *o = validate_find_op(m, op);
	if (!o)
		fail_msg("no operation %s", op);
	struct awsquery_form f;
	err_clear(e);
	*out = NULL;
	int rc = awsquery_form_parse(body, strlen(body), &f, e);
	if (rc == 0)
		rc = awsquery_to_json(m, o->input, &f, out, e);
	awsquery_form_release(&f);
	return rc;
}

/* Expect body to convert to exactly the JSON text want. */
static void expect_json(const struct vmodel *m, const char *op, const char *body, const char *want)
{
	cJSON *got, *w = cJSON_Parse(want);
	struct err e;
	if (!w)
		fail_msg("test JSON does not parse: %s", want);
	if (convert(m, op, body, &got, &e) != 0)
		fail_msg("%s: unexpected error: %s", body, e.msg);
	if (!cJSON_Compare(got, w, true)) {
		char *g = cJSON_PrintUnformatted(got);
		fail_msg("%s:\n got  %s\n want %s", body, g, want);
	}
	cJSON_Delete(got);
	cJSON_Delete(w);
}

static void expect_bad(const struct vmodel *m, const char *op, const char *body, const char *needle)
{
	cJSON *got;
	struct err e;
	if (convert(m, op, body, &got, &e) == 0) {
		char *g = cJSON_PrintUnformatted(got);
		fail_msg("%s: accepted as %s", body, g);
	}
	assert_null(got);
	if (e.code != ERR_VALIDATION || !strstr(e.msg, needle))
		fail_msg("%s: got %s \"%s\", want ValidationError containing \"%s\"", body,
			 api_error_type(e.code), e.msg, needle);
}

#define AS (&validate_model_autoscaling)

static void test_form_parse(void **state)
{
	(void)state;
	struct awsquery_form f;
	struct err e;
	const char *body = "Action=Describe&a=x+y%2Bz&&=skip&novalue&b=%E2%82%AC&c=&b=second";
	assert_int_equal(awsquery_form_parse(body, strlen(body), &f, &e), 0);
	assert_int_equal(f.n, 6);
	assert_string_equal(awsquery_form_get(&f, "Action"), "Describe");
	assert_string_equal(awsquery_form_get(&f, "a"), "x y+z");
	assert_string_equal(awsquery_form_get(&f, "novalue"), "");
	assert_string_equal(awsquery_form_get(&f, "b"), "\xE2\x82\xAC"); /* the first */
	assert_string_equal(awsquery_form_get(&f, "c"), "");
	assert_null(awsquery_form_get(&f, "d"));
	awsquery_form_release(&f);
	/* A body of nothing has no parameters; the length bounds the scan. */
	assert_int_equal(awsquery_form_parse("", 0, &f, &e), 0);
	assert_int_equal(f.n, 0);
	assert_int_equal(awsquery_form_parse("a=1&b=2", 3, &f, &e), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.v[0].val, "1");
	awsquery_form_release(&f);
	static const char *bad[] = {
		"a=%zz", "a=%4", "a=%", "%=1", "a=%C3%28", "a=%C0%AF", "a=%ED%A0%80", "a=x%00y",
		"a=%01", "a=%1B", "a=%EF%BF%BF", "a=\xff",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		if (awsquery_form_parse(bad[i], strlen(bad[i]), &f, &e) != -1)
			fail_msg("%s accepted", bad[i]);
		assert_int_equal(e.code, ERR_VALIDATION);
		assert_int_equal(f.n, 0);
		awsquery_form_release(&f);
	}
	/* Tab, LF and CR are text. */
	assert_int_equal(awsquery_form_parse("a=%09%0A%0D", 11, &f, &e), 0);
	assert_string_equal(f.v[0].val, "\t\n\r");
	awsquery_form_release(&f);
}

static void test_structures_lists_scalars(void **state)
{
	(void)state;
	expect_json(AS, "CreateAutoScalingGroup",
		    "Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g"
		    "&MinSize=0&MaxSize=-3&NewInstancesProtectedFromScaleIn=true&CapacityRebalance=false"
		    "&AvailabilityZones.member.2=b&AvailabilityZones.member.1=a"
		    "&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2"
		    "&Tags.member.1.PropagateAtLaunch=true"
		    "&MixedInstancesPolicy.LaunchTemplate.Overrides.member.1.InstanceType=m5.large"
		    "&MixedInstancesPolicy.LaunchTemplate.Overrides.member.2.InstanceType=c5.xlarge"
		    "&MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName=lt"
		    "&NoSuchMember=1&Tags.member.2.NoSuchField.x=1",
		    "{\"AutoScalingGroupName\":\"g\",\"MinSize\":0,\"MaxSize\":-3,"
		    "\"NewInstancesProtectedFromScaleIn\":true,\"CapacityRebalance\":false,"
		    "\"AvailabilityZones\":[\"a\",\"b\"],"
		    "\"Tags\":[{\"Key\":\"k1\",\"Value\":\"v1\",\"PropagateAtLaunch\":true},{\"Key\":\"k2\"}],"
		    "\"MixedInstancesPolicy\":{\"LaunchTemplate\":{"
		    "\"Overrides\":[{\"InstanceType\":\"m5.large\"},{\"InstanceType\":\"c5.xlarge\"}],"
		    "\"LaunchTemplateSpecification\":{\"LaunchTemplateName\":\"lt\"}}}}");
	/* Items in index order; gaps close up; an empty value is an empty list. */
	expect_json(AS, "DescribeAutoScalingGroups",
		    "AutoScalingGroupNames.member.10=c&AutoScalingGroupNames.member.2=b"
		    "&AutoScalingGroupNames.member.1=a&Filters=",
		    "{\"AutoScalingGroupNames\":[\"a\",\"b\",\"c\"],\"Filters\":[]}");
	/* Lists of lists (Filters[].Values[]), doubles, timestamps as text. */
	expect_json(AS, "DescribeAutoScalingGroups",
		    "Filters.member.1.Name=tag%3Aenv&Filters.member.1.Values.member.1=a+b"
		    "&Filters.member.1.Values.member.2=%3C%26%3E&MaxRecords=50",
		    "{\"Filters\":[{\"Name\":\"tag:env\",\"Values\":[\"a b\",\"<&>\"]}],\"MaxRecords\":50}");
	expect_json(AS, "PutScalingPolicy",
		    "AutoScalingGroupName=g&PolicyName=p&TargetTrackingConfiguration.TargetValue=62.5"
		    "&StepAdjustments.member.1.MetricIntervalLowerBound=-1e3"
		    "&StepAdjustments.member.1.ScalingAdjustment=2",
		    "{\"AutoScalingGroupName\":\"g\",\"PolicyName\":\"p\","
		    "\"TargetTrackingConfiguration\":{\"TargetValue\":62.5},"
		    "\"StepAdjustments\":[{\"MetricIntervalLowerBound\":-1000,\"ScalingAdjustment\":2}]}");
	expect_json(AS, "PutScheduledUpdateGroupAction",
		    "StartTime=2024-05-01T10%3A00%3A00Z&MinSize=2147483647",
		    "{\"StartTime\":\"2024-05-01T10:00:00Z\",\"MinSize\":2147483647}");
	/* An operation without input takes nothing from its parameters. */
	expect_json(AS, "DescribeAccountLimits", "Action=DescribeAccountLimits&X.member.1=y", "{}");
	/* The one member whose wire name differs (a locationName), and "item". */
	expect_json(AS, "CreateAutoScalingGroup",
		    "MixedInstancesPolicy.LaunchTemplate.Overrides.member.1.InstanceRequirements"
		    ".BaselinePerformanceFactors.Cpu.Reference.item.1.InstanceFamily=c5",
		    "{\"MixedInstancesPolicy\":{\"LaunchTemplate\":{\"Overrides\":[{\"InstanceRequirements\":"
		    "{\"BaselinePerformanceFactors\":{\"Cpu\":{\"References\":[{\"InstanceFamily\":\"c5\"}]}}}}]}}}");
}

static void test_maps(void **state)
{
	(void)state;
	const struct vmodel *ecs = &validate_model_ecs;
	expect_json(ecs, "RegisterTaskDefinition",
		    "family=f&containerDefinitions.member.1.name=web"
		    "&containerDefinitions.member.1.dockerLabels.entry.2.key=b"
		    "&containerDefinitions.member.1.dockerLabels.entry.2.value=2"
		    "&containerDefinitions.member.1.dockerLabels.entry.1.value=1"
		    "&containerDefinitions.member.1.dockerLabels.entry.1.key=a"
		    "&containerDefinitions.member.1.memory=512",
		    "{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"web\","
		    "\"dockerLabels\":{\"a\":\"1\",\"b\":\"2\"},\"memory\":512}]}");
	expect_bad(ecs, "RegisterTaskDefinition",
		   "containerDefinitions.member.1.dockerLabels.entry.1.key=a", "needs both a key and a value");
	expect_bad(ecs, "RegisterTaskDefinition",
		   "containerDefinitions.member.1.dockerLabels.entry.1.key=a"
		   "&containerDefinitions.member.1.dockerLabels.entry.1.value=1"
		   "&containerDefinitions.member.1.dockerLabels.entry.2.key=a"
		   "&containerDefinitions.member.1.dockerLabels.entry.2.value=2",
		   "Map key 'a' is given twice");
	expect_bad(ecs, "RegisterTaskDefinition", "containerDefinitions.member.1.dockerLabels.a=1",
		   "NAME.entry.N.key");
	expect_bad(ecs, "RegisterTaskDefinition",
		   "containerDefinitions.member.1.dockerLabels.entry.1.other=1", "NAME.entry.N.key");
}

static void test_bad_parameters(void **state)
{
	(void)state;
	const char *op = "CreateAutoScalingGroup";
	expect_bad(AS, op, "MinSize=abc",
		   "Value 'abc' at 'MinSize' failed to satisfy constraint: Member must be an integer");
	expect_bad(AS, op, "MinSize=1.5", "be an integer");
	expect_bad(AS, op, "MinSize=", "be an integer");
	expect_bad(AS, op, "MinSize=+1", "be an integer");
	expect_bad(AS, op, "MinSize=%201", "be an integer");
	expect_bad(AS, op, "MinSize=2147483648", "be an integer");
	expect_bad(AS, op, "MinSize=99999999999999999999999", "be an integer");
	expect_bad(AS, op, "CapacityRebalance=yes", "be a boolean");
	expect_bad(AS, op, "CapacityRebalance=True", "be a boolean");
	expect_bad(AS, "PutScalingPolicy", "TargetTrackingConfiguration.TargetValue=nan", "be a number");
	expect_bad(AS, "PutScalingPolicy", "TargetTrackingConfiguration.TargetValue=1e999", "be a number");
	expect_bad(AS, "PutScalingPolicy", "TargetTrackingConfiguration.TargetValue=1x", "be a number");
	expect_bad(AS, op, "MinSize=1&MinSize=2", "given twice");
	expect_bad(AS, op, "Tags.member.1.Key=a&Tags.member.1.Key=b", "given twice");
	expect_bad(AS, op, "MinSize.X=1", "goes on past a value");
	expect_bad(AS, op, "Tags.member.1=x", "names a structure");
	expect_bad(AS, op, "MixedInstancesPolicy=x", "names a structure");
	expect_bad(AS, op, "AvailabilityZones=a", "NAME.member.N");
	expect_bad(AS, op, "AvailabilityZones.1=a", "NAME.member.N");
	expect_bad(AS, op, "AvailabilityZones.member.0=a", "NAME.member.N");
	expect_bad(AS, op, "AvailabilityZones.member.01=a", "NAME.member.N");
	expect_bad(AS, op, "AvailabilityZones.member.-1=a", "NAME.member.N");
	expect_bad(AS, op, "AvailabilityZones.member.1000000=a", "NAME.member.N");
	expect_bad(AS, op, "AvailabilityZones.member=a", "NAME.member.N");
	expect_bad(AS, op, "AvailabilityZones.member.1.x=a", "goes on past a value");
	/* The same name as a value and as a prefix. */
	expect_bad(AS, op, "AvailabilityZones.member.1=a&AvailabilityZones.member.1.x=b", "past a value");
	/* Far too many parts. */
	char deep[1024] = "Tags";
	for (int i = 0; i < 70; i++)
		strcat(deep, ".member.1");
	strcat(deep, "=x");
	expect_bad(AS, op, deep, "too many parts");
	/* A long value is echoed clipped, on a character boundary. */
	char longv[1024] = "MinSize=";
	for (int i = 0; i < 100; i++)
		strcat(longv, "%E2%82%AC");
	cJSON *out;
	struct err e;
	assert_int_equal(convert(AS, op, longv, &out, &e), -1);
	assert_non_null(strstr(e.msg, "..."));
	assert_int_equal(validate_utf8(e.msg, strlen(e.msg)), 1);
}

/* Render v (JSON text) as action's answer; compare with want. */
static void expect_xml(const char *action, const char *json, const char *want)
{
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	char *got = awsquery_render(action, v, "rid-1");
	assert_string_equal(got, want);
	free(got);
	cJSON_Delete(v);
}

#define NS "xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\""
#define META "<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>"

static void test_render(void **state)
{
	(void)state;
	expect_xml("DescribeAutoScalingGroups",
		   "{\"AutoScalingGroups\":[{\"AutoScalingGroupName\":\"g\",\"MinSize\":0,"
		   "\"DesiredCapacity\":2,\"NewInstancesProtectedFromScaleIn\":false,"
		   "\"AvailabilityZones\":[\"a\",\"b\"],\"Instances\":[],"
		   "\"Tags\":[{\"Key\":\"k\",\"Value\":\"<a href='x'>&\\\"</a>\",\"PropagateAtLaunch\":true}],"
		   "\"MixedInstancesPolicy\":{\"LaunchTemplate\":{\"Overrides\":[{\"InstanceType\":\"m5.large\"}]}},"
		   "\"Gone\":null,\"Weight\":0.25,\"Big\":1700000000123}],\"NextToken\":\"t\"}",
		   "<DescribeAutoScalingGroupsResponse " NS "><DescribeAutoScalingGroupsResult>"
		   "<AutoScalingGroups><member><AutoScalingGroupName>g</AutoScalingGroupName>"
		   "<MinSize>0</MinSize><DesiredCapacity>2</DesiredCapacity>"
		   "<NewInstancesProtectedFromScaleIn>false</NewInstancesProtectedFromScaleIn>"
		   "<AvailabilityZones><member>a</member><member>b</member></AvailabilityZones>"
		   "<Instances></Instances>"
		   "<Tags><member><Key>k</Key><Value>&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;</Value>"
		   "<PropagateAtLaunch>true</PropagateAtLaunch></member></Tags>"
		   "<MixedInstancesPolicy><LaunchTemplate><Overrides><member><InstanceType>m5.large</InstanceType>"
		   "</member></Overrides></LaunchTemplate></MixedInstancesPolicy>"
		   "<Weight>0.25</Weight><Big>1700000000123</Big></member></AutoScalingGroups>"
		   "<NextToken>t</NextToken></DescribeAutoScalingGroupsResult>" META
		   "</DescribeAutoScalingGroupsResponse>");
	/* An operation without output: no Result element; with one, a Result
	 * even when empty (botocore needs the wrapper). */
	expect_xml("CreateLaunchConfiguration", "{}",
		   "<CreateLaunchConfigurationResponse " NS ">" META "</CreateLaunchConfigurationResponse>");
	expect_xml("CreateLaunchConfiguration", NULL,
		   "<CreateLaunchConfigurationResponse " NS ">" META "</CreateLaunchConfigurationResponse>");
	expect_xml("SetInstanceProtection", "{}",
		   "<SetInstanceProtectionResponse " NS "><SetInstanceProtectionResult></SetInstanceProtectionResult>"
		   META "</SetInstanceProtectionResponse>");
	assert_false(awsquery_has_output("AttachInstances"));
	assert_false(awsquery_has_output("UpdateAutoScalingGroup"));
	assert_true(awsquery_has_output("AttachLoadBalancers"));
	assert_true(awsquery_has_output("DescribeAutoScalingGroups"));
	/* The list is sorted, for the binary search: every operation of the
	 * model without output is found, and the count is the model's. */
	size_t none = 0;
	for (size_t i = 0; i < validate_model_autoscaling.nops; i++)
		none += !awsquery_has_output(validate_model_autoscaling.ops[i].name);
	assert_int_equal(none, 20);
	/* Lists of lists; CR kept through XML's newline rule; what XML cannot
	 * carry (a control, invalid UTF-8) replaced; keys that are no XML
	 * name left out. */
	expect_xml("X", "{\"L\":[[1,2],[]],\"S\":\"a\\r\\nb\\u0001\",\"bad key\":1,\"1x\":2}",
		   "<XResponse " NS "><XResult><L><member><member>1</member><member>2</member></member>"
		   "<member></member></L><S>a&#13;\nb\xEF\xBF\xBD</S></XResult>" META "</XResponse>");
	cJSON *bad = cJSON_CreateObject();
	cJSON_AddStringToObject(bad, "S", "ok\xC3(\xE2\x82\xAC");
	char *got = awsquery_render("X", bad, "r");
	assert_non_null(strstr(got, "<S>ok\xEF\xBF\xBD(\xE2\x82\xAC</S>"));
	free(got);
	cJSON_Delete(bad);
}

static void test_render_error(void **state)
{
	(void)state;
	char *x = awsquery_render_error(ERR_VALIDATION, "Value '<x>' & more", "rid");
	assert_string_equal(x, "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>ValidationError</Code>"
			       "<Message>Value &apos;&lt;x&gt;&apos; &amp; more</Message></Error>"
			       "<RequestId>rid</RequestId></ErrorResponse>");
	free(x);
	x = awsquery_render_error(ERR_SERVER, "boom", "rid");
	assert_non_null(strstr(x, "<Type>Receiver</Type><Code>ServerException</Code>"));
	free(x);
	x = awsquery_render_error(ERR_AS_RESOURCE_CONTENTION, "busy", "rid");
	assert_non_null(strstr(x, "<Type>Sender</Type><Code>ResourceContention</Code>"));
	free(x);
	x = awsquery_render_error(ERR_AS_ALREADY_EXISTS, "dup", "rid");
	assert_non_null(strstr(x, "<Code>AlreadyExists</Code>"));
	free(x);
	assert_int_equal(api_error_status(ERR_AS_RESOURCE_CONTENTION), 500);
	assert_int_equal(api_error_status(ERR_AS_INVALID_NEXT_TOKEN), 400);

	struct http_req r;
	memset(&r, 0, sizeof r);
	strcpy(r.request_id, "id");
	awsquery_error(&r, ERR_AS_RESOURCE_IN_USE, "in use");
	assert_int_equal(r.status, 400);
	assert_string_equal(r.resp_ctype, "text/xml");
	assert_int_equal(r.resp_len, strlen(r.resp));
	assert_non_null(strstr(r.resp, "<Code>ResourceInUse</Code><Message>in use</Message>"));
	free(r.resp);
}

/* Run a form body through awsquery_call; returns the code, r's answer in
 * *r (free r->resp). */
static int call(const char *body, struct http_req *r)
{
	memset(r, 0, sizeof *r);
	r->method = "POST";
	r->path = "/";
	r->ctype = "application/x-www-form-urlencoded; charset=utf-8";
	r->body = (char *)body;
	r->len = strlen(body);
	strcpy(r->request_id, "00000000-0000-4000-8000-000000000000");
	static const char region[] = "us-east-1";
	struct api_ctx ctx = {.region = region};
	int code = awsquery_call(&ctx, r);
	assert_int_equal(r->resp_len, strlen(r->resp));
	assert_string_equal(r->resp_ctype, "text/xml");
	/* Never left pointing into awsquery_call's frame. */
	assert_true(ctx.region == NULL || ctx.region == region);
	return code;
}

static void expect_call_error(const char *body, int code, const char *message)
{
	struct http_req r;
	assert_int_equal(call(body, &r), code);
	assert_int_equal(r.status, 400);
	char want[2048];
	snprintf(want, sizeof want, "<Code>%s</Code><Message>%s", api_error_type(code), message);
	if (!strstr(r.resp, want))
		fail_msg("%s:\n got  %s\n want %s", body, r.resp, want);
	assert_non_null(strstr(r.resp, "<RequestId>00000000-0000-4000-8000-000000000000</RequestId>"));
	free(r.resp);
}

static void test_call_errors(void **state)
{
	(void)state;
	expect_call_error("", ERR_MISSING_ACTION, "The request must contain the parameter Action.");
	expect_call_error("Version=2011-01-01&Action=", ERR_MISSING_ACTION,
			  "The request must contain the parameter Action.");
	expect_call_error("Action=DescribeAutoScalingGroups", ERR_INVALID_ACTION,
			  "Could not find operation DescribeAutoScalingGroups for version NO_VERSION_SPECIFIED");
	expect_call_error("Action=DescribeAutoScalingGroups&Version=2010-08-01", ERR_INVALID_ACTION,
			  "Could not find operation DescribeAutoScalingGroups for version 2010-08-01");
	expect_call_error("Action=%3CCreateCluster%3E&Version=2011-01-01", ERR_INVALID_ACTION,
			  "Could not find operation &lt;CreateCluster&gt; for version 2011-01-01");
	expect_call_error("Action=DescribeWarmPool&Version=2011-01-01&AutoScalingGroupName=g",
			  ERR_INVALID_ACTION,
			  "Berth does not implement DescribeWarmPool yet; docs/api-coverage.md lists what it does.");
	expect_call_error("Action=DescribeWarmPool&Version=2011-01-01&AutoScalingGroupName=%zz",
			  ERR_VALIDATION, "The request body is not a valid form");
	/* The validator runs before the table: required members, lengths,
	 * ranges and enums come back in AWS's words. */
	expect_call_error("Action=DescribeWarmPool&Version=2011-01-01", ERR_VALIDATION,
			  "1 validation error detected: Value null at &apos;autoScalingGroupName&apos; "
			  "failed to satisfy constraint: Member must not be null");
	expect_call_error("Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g&MaxSize=1",
			  ERR_VALIDATION,
			  "1 validation error detected: Value null at &apos;minSize&apos; "
			  "failed to satisfy constraint: Member must not be null");
	expect_call_error("Action=CreateAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=g&MaxSize=1"
			  "&MinSize=0&Tags.member.1.Value=v",
			  ERR_VALIDATION,
			  "1 validation error detected: Value null at &apos;tags.1.member.key&apos; "
			  "failed to satisfy constraint: Member must not be null");
	expect_call_error("Action=CreateLaunchConfiguration&Version=2011-01-01&LaunchConfigurationName=",
			  ERR_VALIDATION,
			  "1 validation error detected: Value &apos;&apos; at &apos;launchConfigurationName&apos; "
			  "failed to satisfy constraint: Member must have length greater than or equal to 1");
	expect_call_error("Action=PutWarmPool&Version=2011-01-01&AutoScalingGroupName=g&MinSize=-2",
			  ERR_VALIDATION,
			  "1 validation error detected: Value &apos;-2&apos; at &apos;minSize&apos; "
			  "failed to satisfy constraint: Member must have value greater than or equal to 0");
	expect_call_error("Action=PutWarmPool&Version=2011-01-01&AutoScalingGroupName=g&PoolState=Off",
			  ERR_VALIDATION,
			  "1 validation error detected: Value &apos;Off&apos; at &apos;poolState&apos; "
			  "failed to satisfy constraint: Member must satisfy enum value set: "
			  "[Stopped, Running, Hibernated]");
	/* A length counts characters, not bytes: 256 euro signs are too long. */
	char longname[4096] = "Action=PutWarmPool&Version=2011-01-01&AutoScalingGroupName=";
	for (int i = 0; i < 256; i++)
		strcat(longname, "%E2%82%AC");
	struct http_req r;
	assert_int_equal(call(longname, &r), ERR_VALIDATION);
	assert_non_null(strstr(r.resp, "Member must have length less than or equal to 255</Message>"));
	assert_int_equal(validate_utf8(r.resp, r.resp_len), 1);
	free(r.resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_structures_lists_scalars),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_bad_parameters),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_error),
		cmocka_unit_test(test_call_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
