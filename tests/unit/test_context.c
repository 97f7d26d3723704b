/* Unit tests for detect's context engine (src/detect/context.c, walk.c; docs/detection.md, "Context"): every rule
 * has cases that fail when it is removed. Each case is a document and the exact set of findings it must give
 * (path, category, rule, evidence): a rule's positives and the tempting negatives next to them.
 * No test prints a scanned value. */
#include "detect.h"
#include "jsonwalk.h"
#include "util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static struct pa_detector *g_det;
static struct pa_detect_ctx *g_ctx;

#define MAXF 32

struct got {
    char line[MAXF][320]; /* "path category rule evidence" */
    size_t n;
};

static void collect(void *arg, const struct pa_finding *f)
{
    struct got *g = arg;
    ck_assert_uint_eq(strlen(f->path), f->path_len);
    ck_assert_ptr_nonnull(f->rule);
    ck_assert_ptr_nonnull(pa_evidence_name(f->evidence));
    if (g->n < MAXF)
        snprintf(g->line[g->n], sizeof g->line[0], "%s %s %s %s", f->path, f->category, f->rule,
                 pa_evidence_name(f->evidence));
    g->n++;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The document gives exactly the findings of want (a NULL-terminated list of "path category rule evidence"), in any
 * order, with a fresh context and with the shared warm one. */
static void expect_doc(const char *doc, const char *const *want)
{
    for (int warm = 0; warm < 2; warm++) {
        struct pa_detect_ctx *c = warm ? g_ctx : pa_detect_ctx_new(g_det);
        struct got g = {.n = 0};
        struct pa_doc_result res;
        ck_assert_int_eq(pa_detect_doc(c, "public.t.c", PA_DOC_JSON, doc, strlen(doc), collect, &g, &res), 0);
        if (!warm)
            pa_detect_ctx_free(c);
        size_t nw = 0;
        while (want[nw])
            nw++;
        const char *have[MAXF];
        for (size_t i = 0; i < g.n && i < MAXF; i++)
            have[i] = g.line[i];
        qsort(have, g.n < MAXF ? g.n : MAXF, sizeof *have, cmp_line);
        const char *exp[MAXF];
        for (size_t i = 0; i < nw && i < MAXF; i++)
            exp[i] = want[i];
        qsort(exp, nw < MAXF ? nw : MAXF, sizeof *exp, cmp_line);
        char msg[4096] = "";
        for (size_t i = 0; i < g.n && i < MAXF; i++) {
            strncat(msg, "\n  got  ", sizeof msg - strlen(msg) - 1);
            strncat(msg, have[i], sizeof msg - strlen(msg) - 1);
        }
        for (size_t i = 0; i < nw && i < MAXF; i++) {
            strncat(msg, "\n  want ", sizeof msg - strlen(msg) - 1);
            strncat(msg, exp[i], sizeof msg - strlen(msg) - 1);
        }
        ck_assert_msg(g.n == nw, "%s: %zu findings, want %zu%s", doc, g.n, nw, msg);
        for (size_t i = 0; i < nw; i++)
            ck_assert_msg(strcmp(have[i], exp[i]) == 0, "%s:%s", doc, msg);
    }
}

#define NONE ((const char *const[]){NULL})
#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- the holder decides ambiguous names --------------------------------------------------------------------- */

START_TEST(test_holder_person)
{
    /* a person's holder: its name is the person's */
    expect_doc("{\"author\":{\"name\":\"Ann Lee\"}}", WANT("$.author.name person_name key:name context"));
    expect_doc("{\"users\":[{\"name\":\"Ann Lee\"},{\"display_name\":\"Bo\"}]}",
               WANT("$.users[0].name person_name key:name context",
                    "$.users[1].display_name person_name key:display_name context"));
    expect_doc("{\"billing_details\":{\"name\":\"Ann Lee\"}}",
               WANT("$.billing_details.name person_name key:name context"));
    /* ... through a profile, not through anything it holds (a person's orders are no persons) */
    expect_doc("{\"user\":{\"profile\":{\"display_name\":\"Ann Lee\"},\"orders\":[{\"name\":\"Ann Lee\"}]}}",
               WANT("$.user.profile.display_name person_name key:display_name context"));
    /* an organisation, a product, a repository, a place: never */
    expect_doc("{\"repository\":{\"name\":\"Hello World\",\"full_name\":\"Ann Lee\"},\"product\":{\"name\":\"Ann "
               "Lee\"},\"organization\":{\"display_name\":\"Ann Lee\"}}",
               NONE);
    /* an object of unknown kind: its name says nothing alone */
    expect_doc("{\"campaign_run\":{\"name\":\"Summer Sale\"},\"name\":\"Ann Lee\"}", NONE);
}
END_TEST

START_TEST(test_holder_evidence)
{
    /* a type naming a person kind, before or after the name (decided when the object ends) */
    expect_doc("{\"target\":[{\"type\":\"User\",\"displayName\":\"Ann Lee\"},{\"displayName\":\"Salesforce\","
               "\"type\":\"AppInstance\"}]}",
               WANT("$.target[0].displayName person_name key:display_name context"));
    expect_doc("{\"displayName\":\"Ann Lee\",\"object\":\"customer\"}",
               WANT("$.displayName person_name key:display_name context"));
    expect_doc("{\"role\":\"end-user\",\"name\":\"Ann Lee\"}", WANT("$.name person_name key:name context"));
    /* a person's holder whose type says otherwise: not a person */
    expect_doc("{\"sender\":{\"type\":\"Bot\",\"name\":\"Dependabot Helper\"}}", NONE);
    /* an owner is decided by its own type, not by the repository that holds it */
    expect_doc("{\"repository\":{\"owner\":{\"name\":\"Ann Lee\",\"type\":\"User\"}}}",
               WANT("$.repository.owner.name person_name key:name context"));
    expect_doc("{\"repository\":{\"owner\":{\"name\":\"Octo Org\",\"type\":\"Organization\"}}}", NONE);
    /* name parts or an e-mail address beside it say "a person" */
    expect_doc("{\"first_name\":\"Ann\",\"name\":\"Ann Lee\"}",
               WANT("$.first_name person_name key:first_name key", "$.name person_name key:name context"));
    expect_doc("{\"row\":{\"name\":\"Ann Lee\",\"email\":\"ann@example.com\"}}",
               WANT("$.row.name person_name key:name context", "$.row.email email key:email key+value"));
    /* Salesforce: the record's type is in its attributes */
    expect_doc("{\"attributes\":{\"type\":\"Contact\"},\"Name\":\"Ann Lee\"}",
               WANT("$.Name person_name key:name context"));
    expect_doc("{\"attributes\":{\"type\":\"Property__c\"},\"Address__c\":\"1 Main St, Boston\",\"Name\":\"Ann "
               "Lee\"}",
               NONE);
}
END_TEST

START_TEST(test_person_names_structured)
{
    /* FHIR HumanName and {first, last} under a name */
    expect_doc(
        "{\"resourceType\":\"Patient\",\"name\":[{\"use\":\"official\",\"given\":[\"Ann\",\"Marie\"],"
        "\"family\":\"Lee\",\"prefix\":[\"Mrs.\"]}]}",
        WANT("$.name[0].given person_name key:given context", "$.name[0].family person_name key:family context"));
    expect_doc("{\"name\":{\"first\":\"Ann\",\"last\":\"Lee\"}}",
               WANT("$.name.first person_name key:first context", "$.name.last person_name key:last context"));
    /* a device's or a file's name holds no person's name parts */
    expect_doc("{\"deviceName\":[{\"name\":\"Glucose meter\",\"text\":\"x\"}],\"file_name\":{\"first\":\"Ann\"}}",
               NONE);
    /* FHIR references: the target's type decides, else the holder, else an honorific */
    expect_doc(
        "{\"subject\":{\"reference\":\"Patient/1\",\"display\":\"Ann Lee\"},\"serviceProvider\":{"
        "\"reference\":\"Organization/2\",\"display\":\"Acme Clinic\"},\"performer\":[{\"reference\":"
        "\"Organization/3\",\"display\":\"Lee Lab\"}],\"x\":{\"reference\":\"urn:uuid:4\",\"display\":\"Dr. "
        "Ann Lee\"},\"y\":{\"reference\":\"urn:uuid:5\",\"display\":\"Ann Lee\"}}",
        WANT("$.subject.display person_name key:display context", "$.x.display person_name key:display context"));
    /* a person's address: the addressee's name */
    expect_doc("{\"order\":{\"shipping_address\":{\"name\":\"Ann Lee\",\"address1\":\"1 Main St\"}}}",
               WANT("$.order.shipping_address.name person_name key:name context",
                    "$.order.shipping_address street_address key:shipping_address key",
                    "$.order.shipping_address.address1 street_address key:address key"));
}
END_TEST

START_TEST(test_person_strings)
{
    /* "Name <email> (url)" and full names under a person's role; a user name that holds a full name */
    expect_doc("{\"author\":\"Isaac Z. Schlueter <i@izs.example> (http://blog.izs.example)\",\"maintainers\":["
               "\"Ann Lee <ann@example.com>\",\"npm\"],\"owner\":\"Ann Lee\",\"user_name\":\"Bob Cat\","
               "\"username\":\"bcat\"}",
               WANT("$.author person_name person_string key+value", "$.author email email value",
                    "$.maintainers[0] person_name person_string key+value", "$.maintainers[0] email email value",
                    "$.owner person_name person_string key+value", "$.user_name person_name key:user_name key+value"));
    /* not a person: a company, a handle, a single word */
    expect_doc("{\"author\":\"GitHub Inc.\",\"from\":\"Amazon Web Services <aws@amazon.example>\",\"contributors\":"
               "[\"IndigoUnited <hello@indigo.example>\"],\"users\":[{\"name\":\"fakeuser\"}]}",
               WANT("$.from email email value", "$.contributors[0] email email value"));
}
END_TEST

START_TEST(test_things_and_places)
{
    /* an organisation's, a store's or a place's address, postal code and coordinates are not a person's */
    expect_doc("{\"store\":{\"address\":{\"line1\":\"1 Main St\"},\"zip\":\"94105\",\"location\":{\"lat\":1.5,"
               "\"lng\":2.5}},\"geometry\":{\"coordinates\":[139.5,35.7]}}",
               NONE);
    /* a location with a name is a place; one without is a position */
    expect_doc("{\"pickup_location\":{\"name\":\"Harbor Point\",\"address\":{\"line1\":\"1 Main St\"},\"location\":{"
               "\"lat\":1.5,\"lng\":2.5}},\"context\":{\"location\":{\"lat\":1.5,\"lng\":2.5}}}",
               WANT("$.context.location geolocation key:lat_lng_pair key"));
    /* a thing's type at the top level: its address is not a person's */
    expect_doc("{\"resourceType\":\"Organization\",\"name\":\"Acme Clinic\",\"address\":[{\"line\":[\"1 Main St\"]}]}",
               NONE);
    /* generic containers of any entity are no things: a FHIR Bundle's resources, a list's items, a graph's nodes */
    expect_doc("{\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Lee\"}],\"address\":"
               "[{\"line\":[\"1 Main St\"]}]}},{\"resource\":{\"resourceType\":\"Organization\",\"address\":[{"
               "\"line\":[\"2 Main St\"]}]}}],\"items\":[{\"kind\":\"user\",\"name\":\"Ann Lee\"}],\"node\":{"
               "\"first_name\":\"Bo\",\"display_name\":\"Bo Lee\"}}",
               WANT("$.entry[0].resource.name[0].family person_name key:family context",
                    "$.entry[0].resource.address street_address key:address key",
                    "$.items[0].name person_name key:name context", "$.node.first_name person_name key:first_name key",
                    "$.node.display_name person_name key:display_name context"));
    /* package maps: their member names are package names */
    expect_doc("{\"dependencies\":{\"ip-address\":\"^9.0.5\",\"phone\":\"10.1.2 - 11.0.0\"}}", NONE);
}
END_TEST

/* ---- typed values ------------------------------------------------------------------------------------------------ */

START_TEST(test_typed_values)
{
    /* label first or value first; URL labels by their last segment */
    /* (999-89-5397 is neither an SSN, area 9xx, nor an ITIN, group 89: only the label says what it is) */
    expect_doc("{\"identifier\":[{\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"999-89-5397\"},"
               "{\"value\":\"M123\",\"system\":\"urn:oid:1.2.3\"}]}",
               WANT("$.identifier[0].value national_id typed:ssn context"));
    /* a value that validates by itself is reported as the value it is, as an e-mail address or phone is below
     * (999-94-5397 has an ITIN's shape: Synthea's SSNs) */
    expect_doc("{\"identifier\":[{\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"999-94-5397\"}]}",
               WANT("$.identifier[0].value national_id us_itin value"));
    expect_doc("{\"telecom\":[{\"value\":\"5551234567\",\"use\":\"home\",\"system\":\"phone\"},{\"system\":"
               "\"email\",\"value\":\"ann@example.com\"},{\"system\":\"phone\",\"value\":\"555-123-4567\"}]}",
               WANT("$.telecom[0].value phone typed:phone context", "$.telecom[1].value email email value",
                    "$.telecom[2].value phone phone_national value"));
    /* custom fields and key/value lists; HL7 v2-0203 codes in a type's coding */
    expect_doc("{\"note_attributes\":[{\"name\":\"phone\",\"value\":\"415 555 0132\"},{\"name\":\"gift_wrap\","
               "\"value\":\"Ann Lee\"}],\"meta\":[{\"key\":\"Passport Number\",\"value\":\"X1234567\"}],\"ids\":[{"
               "\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"DL\"}]}"
               ",\"value\":\"S99948707\"}]}",
               WANT("$.note_attributes[0].value phone phone_national value", /* one finding per (path, kind) */
                    "$.meta[0].value national_id typed:passport_number context",
                    "$.ids[0].value national_id typed:hl7_dl context"));
    /* FHIR extensions: a name by its URL; latitude and longitude entries make a pair on the outer element */
    expect_doc("{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName\","
               "\"valueString\":\"Ann Lee\"},{\"url\":\"http://hl7.org/fhir/StructureDefinition/geolocation\","
               "\"extension\":[{\"url\":\"latitude\",\"valueDecimal\":42.1},{\"url\":\"longitude\",\"valueDecimal\":"
               "-71.2}]}]}",
               WANT("$.extension[0].valueString person_name typed:maiden_name context",
                    "$.extension[1] geolocation key:lat_lng_pair key"));
    /* a value that cannot be of the label's kind, a placeholder, a label that names nothing */
    expect_doc("{\"a\":[{\"name\":\"email\",\"value\":\"none given\"},{\"name\":\"phone\",\"value\":\"yes\"},{\"name\":"
               "\"color\",\"value\":\"Blue\"},{\"system\":\"phone\",\"value\":\"<phone>\"}]}",
               NONE);
    /* a message id's label: its value is no e-mail address */
    expect_doc("{\"headers\":[{\"name\":\"Message-ID\",\"value\":\"<a1b2.c3@mail.example.com>\"},{\"name\":\"To\","
               "\"value\":\"ann@example.com\"}],\"message_id\":\"<x9@mail.example.com>\"}",
               WANT("$.headers[1].value email email value"));
}
END_TEST

/* ---- a key finding needs data ------------------------------------------------------------------------------------ */

START_TEST(test_placeholders)
{
    expect_doc("{\"email\":\"<email>\",\"phone_number\":\"phone_number\",\"hostIP\":\"hostIPValue\",\"ip\":\"0.0.0.0\","
               "\"ips\":[\"ipsValue\"],\"name_x\":{},\"first_name\":\"string\",\"sourceIp\":\"IP\",\"zip\":\"...\","
               "\"geo\":{\"lat\":0,\"lng\":0},\"coordinates\":[0,0],\"address\":{\"line1\":null,\"city\":null},"
               "\"dob\":{\"day\":null,\"month\":null}}",
               NONE);
    /* data next to them is */
    expect_doc(
        "{\"ip\":\"10.1.2.3\",\"geo\":{\"lat\":0,\"lng\":10.5},\"address\":{\"line1\":\"1 Main St\",\"city\":null}}",
        WANT("$.ip ip_address key:ip key+value", "$.geo geolocation key:lat_lng_pair key",
             "$.address street_address key:address key"));
}
END_TEST

START_TEST(test_plausibility)
{
    /* one check per category: a value that cannot be the key's kind is not a finding of it */
    expect_doc("{\"permissions\":{\"emails\":\"read\"},\"site\":{\"mobile\":1},\"behaviors\":{\"New IP\":\"NEGATIVE\","
               "\"New Geo-Location\":\"NEGATIVE\"},\"client\":{\"ip_address\":\"1.1.1.1.1\"},\"resource\":{\"addr"
               "ess\":\"aws_instance.web\"},\"provider\":{\"full_name\":\"registry.example/hashicorp/aws\"},\"x\":{"
               "\"full_name\":\"octo-org/octo-repo\",\"postal_code\":\"N/A\",\"iban\":\"none\",\"mac_address\":\"hard"
               "wareAddressValue\",\"date_of_birth\":\"unknown\"},\"geo\":{\"lat\":123,\"lon\":123}}",
               NONE);
    /* a geolocation is coordinates: a city or a country alone is out of scope */
    expect_doc("{\"geolocation\":{\"country\":\"US\",\"city\":\"San Francisco\"},\"coordinates\":\"Berlin\","
               "\"geo_point\":\"52.52, 13.40\",\"gps_location\":{\"lat\":\"52.52N\"}}",
               WANT("$.geo_point geolocation key:geo_point key", "$.gps_location geolocation key:gps_location key"));
    /* an e-mail address under an address key is an e-mail address */
    expect_doc("{\"address\":\"ann@example.com\"}", WANT("$.address email email value"));
    /* plausible ones */
    expect_doc("{\"x\":{\"mobile\":4155550132,\"postal_code\":94105,\"full_name\":\"Ann Lee\",\"mac_address\":"
               "\"00:1A:2B:3C:4D:5E\"}}",
               WANT("$.x.mobile phone key:mobile key", "$.x.postal_code postal_code key:postal_code key",
                    "$.x.full_name person_name key:full_name key",
                    "$.x.mac_address mac_address key:mac_address key+value"));
}
END_TEST

START_TEST(test_containers)
{
    /* kinds that are one string are never objects: bank-account summaries, payment-method settings */
    expect_doc("{\"us_bank_account\":{\"bank_name\":\"Test Bank\",\"last4\":\"6789\"},\"zip\":{\"available\":true},"
               "\"clientIP\":{\"timeoutSeconds\":1},\"ips\":[\"10.0.0.1\"]}",
               WANT("$.ips ip_address key:ip key", "$.ips[0] ip_address ipv4 value"));
    /* an address needs an address part with data (a country alone, a resource's address object: none) */
    expect_doc("{\"address\":{\"to_display\":\"module.files\",\"kind\":\"resource\"},\"home_address\":{\"country\":"
               "\"US\"},\"addresses\":[\"1 Main St\"]}",
               WANT("$.addresses street_address key:address key"));
    /* JSON Schema and provider-schema property definitions, and their examples, are documentation */
    expect_doc("{\"properties\":{\"email\":{\"type\":\"string\",\"examples\":[\"ann@example.com\"]},\"phone\":{"
               "\"$ref\":\"#/definitions/phone\"},\"PackageFamilyName\":{\"type\":[\"string\",\"null\"]},\"ip\":{"
               "\"type\":\"string\",\"description\":\"10.0.0.1 for example\",\"example\":\"10.0.0.2\"}}}",
               WANT("$.properties.ip.description ip_address ipv4 value"));
}
END_TEST

/* ---- identifiers, message ids, versions, devices ------------------------------------------------------------- */

START_TEST(test_identifiers_not_cards)
{
    expect_doc("{\"product_id\":\"4111111111111111\",\"content_ids\":[\"4111111111111111\",4111111111111111],\"n\":"
               "4111111111111111,\"barcode\":\"4012345678901\",\"gid\":\"gid://shop/Product/4111111111111111\","
               "\"url\":\"https://shop.example/p?utm_content=4111111111111111&product_id=4111111111111111\"}",
               NONE);
    /* a card key (string or number) and a card in prose are cards */
    expect_doc("{\"card_number\":4111111111111111,\"cc\":\"4111 1111 1111 1111\",\"url\":\"https://x.example/?cc="
               "4111111111111111\"}",
               WANT("$.card_number credit_card key:card_number key+value", "$.cc credit_card credit_card_luhn value",
                    "$.url credit_card credit_card_luhn value"));
}
END_TEST

START_TEST(test_message_ids_and_versions)
{
    expect_doc(
        "{\"In-Reply-To\":\"<abc.1@mail.example.com>\",\"References\":\"<d.2@mail.example.com>\",\"html\":\"<img"
        " src=\\\"cid:part1.AB.CD@mail.example.com\\\">\",\"app\":\"Acme 10.1.2.3\",\"partner\":\"shopify-1.2.3.4\""
        ",\"firmware\":\"10.0.0.1\",\"context\":{\"browser\":\"Chrome 120.0.0.0\",\"os\":\"Acme OS 10.1.0.4\"}}",
        NONE);
    /* not software: an address after a word */
    expect_doc("{\"origin\":\"Client 10.1.2.3\"}", WANT("$.origin ip_address ipv4 value"));
    expect_doc("{\"note\":\"reply to ann@example.com from 10.1.2.3\"}",
               WANT("$.note email email value", "$.note ip_address ipv4 value"));
}
END_TEST

START_TEST(test_devices)
{
    expect_doc("{\"device\":{\"ifa\":\"ec943cb9-61ec-460f-a925-6489c3fcc4e3\",\"deviceId\":\"A1B2C3D4E5\"},"
               "\"deviceInfo\":{\"push_token\":\"f00dbeef12345678\"}}",
               WANT("$.device.ifa device_id key:ifa context", "$.device.deviceId device_id key:device_id context",
                    "$.deviceInfo.push_token device_id key:push_token context"));
    /* not under a device: an ad's id, a machine's id; the zeroed advertising id of "limit ad tracking" */
    expect_doc("{\"seatbid\":[{\"bid\":[{\"adid\":\"1088\",\"ifa\":\"ec943cb9-61ec-460f-a925-6489c3fcc4e3\"}]}],"
               "\"device\":{\"idfa\":\"00000000-0000-0000-0000-000000000000\",\"adid\":\"1\"}}",
               NONE);
}
END_TEST

START_TEST(test_evidence)
{
    /* key: the key with a value of the kind's shape; key+value: the value validates too; value: the value alone;
     * context: the place (holder, sibling, label) */
    expect_doc("{\"zip\":\"94105\",\"email\":\"ann@example.com\",\"note\":\"ann@example.com\",\"customer\":{\"name\":"
               "\"Ann Lee\"}}",
               WANT("$.zip postal_code key:zip key", "$.email email key:email key+value", "$.note email email value",
                    "$.customer.name person_name key:name context"));
    ck_assert_str_eq(pa_evidence_name(PA_EV_KEY), "key");
    ck_assert_str_eq(pa_evidence_name(PA_EV_VALUE), "value");
    ck_assert_str_eq(pa_evidence_name(PA_EV_KEY_VALUE), "key+value");
    ck_assert_str_eq(pa_evidence_name(PA_EV_CONTEXT), "context");
    ck_assert_ptr_null(pa_evidence_name((enum pa_evidence)4));
}
END_TEST

static Suite *context_suite(void)
{
    Suite *s = suite_create("context");
    TCase *tc = tcase_create("context");
    tcase_add_test(tc, test_holder_person);
    tcase_add_test(tc, test_holder_evidence);
    tcase_add_test(tc, test_person_names_structured);
    tcase_add_test(tc, test_person_strings);
    tcase_add_test(tc, test_things_and_places);
    tcase_add_test(tc, test_typed_values);
    tcase_add_test(tc, test_placeholders);
    tcase_add_test(tc, test_plausibility);
    tcase_add_test(tc, test_containers);
    tcase_add_test(tc, test_identifiers_not_cards);
    tcase_add_test(tc, test_message_ids_and_versions);
    tcase_add_test(tc, test_devices);
    tcase_add_test(tc, test_evidence);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char err[256];
    g_det = pa_detect_new(NULL, err, sizeof err);
    if (!g_det) {
        fprintf(stderr, "pa_detect_new: %s\n", err);
        return EXIT_FAILURE;
    }
    g_ctx = pa_detect_ctx_new(g_det);
    int rc = pa_test_run(context_suite());
    pa_detect_ctx_free(g_ctx);
    pa_detect_free(g_det);
    return rc;
}
