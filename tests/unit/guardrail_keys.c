/* guardrail_keys: the C side of the guardrail agreement test (tests/integration/guardrail.sh).
 *   guardrail_keys CONFIG corpus    print a deterministic corpus of keys (dictionary entries split into tokens
 *                                   in random styles, with prefixes, plurals, digits, near misses), one a line
 *   guardrail_keys CONFIG classify  read keys (one a line) and print "key<TAB>category" as the daemon decides
 *                                   (pa_detect_key_category; empty when no category)
 * The test runs the same keys through pii_guardrail.key_category() in PostgreSQL and requires the same answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "detect.h"
#include "testutil.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
    return (unsigned)(pa_test_rng(&rng) % n);
}

struct corpus {
    char **w;
    size_t n;
};

static void collect(void *arg, const char *words, int category, bool whole_only)
{
    (void)category;
    (void)whole_only;
    struct corpus *c = arg;
    c->w = realloc(c->w, (c->n + 1) * sizeof *c->w);
    c->w[c->n++] = strdup(words);
}

/* One styled rendering of the word form w ("email_address"): its words in a random style, the word breaks kept as
 * breaks of the style (or run together when the separator is empty), plus random cuts inside words. */
static void styled(const char *w, FILE *out)
{
    static const char *const seps[] = {"_", "-", ".", " ", "", "__"};
    int style = (int)rnd(5); /* 0 snake, 1 camel, 2 UPPER, 3 Pascal, 4 mixed */
    const char *sep = seps[rnd(PA_ARRAY_LEN(seps))];
    size_t n = strlen(w);
    bool up_next = style == 3;
    for (size_t i = 0; i < n; i++) {
        bool brk = w[i] == '_';
        if (brk)
            i++;
        if (i >= n)
            break;
        bool cut = i > 0 && (brk || rnd(6) == 0);
        if (cut) {
            if (style == 1 || style == 3)
                up_next = true;
            else
                fputs(sep, out);
        }
        int ch = (unsigned char)w[i];
        if (style == 2 || (style == 4 && rnd(3) == 0) || up_next)
            ch = (ch >= 'a' && ch <= 'z') ? ch - 32 : ch;
        up_next = false;
        fputc(ch, out);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: guardrail_keys CONFIG corpus|classify\n");
        return 2;
    }
    struct pa_config *cfg = NULL;
    char err[1024];
    if (pa_config_load(argv[1], &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    struct pa_detector *d = pa_detect_new(&cfg->detect, err, sizeof err);
    if (!d) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (strcmp(argv[2], "corpus") == 0) {
        struct corpus c = {0};
        pa_detect_dictionary_each(d, collect, &c);
        static const char *const pre[] = {"",
                                          "customer_",
                                          "user",
                                          "billing-",
                                          "x",
                                          "IP",
                                          "home",
                                          "new_",
                                          "\xc3\x9c"
                                          "ber_",
                                          "ship_to_"};
        static const char *const post[] = {"",    "s",      "es", "2",   "_3",    "S",   "ss",
                                           "_id", "Number", "x",  "_v2", "_hash", "IDs", "\xc3\xa9"};
        for (size_t i = 0; i < c.n; i++) {
            printf("%s\n", c.w[i]);
            for (int k = 0; k < 12; k++) {
                fputs(pre[rnd(PA_ARRAY_LEN(pre))], stdout);
                styled(c.w[i], stdout);
                fputs(post[rnd(PA_ARRAY_LEN(post))], stdout);
                fputc('\n', stdout);
            }
            /* two entries glued: the longest trailing run must win */
            styled(c.w[rnd((unsigned)c.n)], stdout);
            fputc('_', stdout);
            styled(c.w[i], stdout);
            fputc('\n', stdout);
        }
        static const char *const fixed[] = {
            "IPAddress",
            "IPs",
            "IPv4",
            "ipV6Address",
            "ABCDef",
            "AbCDef",
            "emailAddress",
            "EMAIL_ADDRESS",
            "e-mail",
            "E_Mail_Address",
            "addressLine1",
            "address_line_2",
            "phone2",
            "phones",
            "addresses",
            "walletAddress",
            "camera_pan",
            "pan",
            "PAN",
            "angle_sin",
            "sin",
            "timezone",
            "username",
            "passport",
            "passport_number",
            "zip",
            "zipCode",
            "lat",
            "lng",
            "latitude",
            "dob",
            "DOB",
            "x",
            "",
            "_",
            "__email__",
            "email123abc",
            "123",
            "email 2 3",
            "a1b2c3",
            "IDs",
            "SSNs",
            "ssn",
            "SSN_last4",
            "fullName",
            "FirstName",
            "firstname",
            "name",
            "user_name",
            "mac",
            "macAddr",
            "MACAddress",
            "deviceID",
            "IDFA",
            "idfas",
            "\xc3\x9c"
            "berEmail",
            "\xf0\x9f\x98\x80"
            "email",
            "email\xf0\x9f\x98\x80",
            "stra\xc3\x9f"
            "e",
            "employeeTaxRef",
            "EMPLOYEE_TAX_REF",
            "employee_tax_refs",
            "ad_id",
            "adId",
            "AdID",
            "ADID",
            "adid",
            "ad-ids",
            "first_name",
            "firstname",
            "FIRSTNAME",
            "first_Name",
            "birth_date",
            "birthdate",
            "cardholder_name",
            "card_holder_name",
            "cardholdername",
            "address_line1",
            "addressline1",
            "addressline_1",
            "ipAddress",
            "Preferred_Name__c",
            "Email__c",
            "MailingStreet__C",
            "Zip__s",
            "Phone__r",
            "__c",
            "a__c",
            "Email__cc",
            "Location__Latitude__s",
            "Home_Phone__c",
        };
        for (size_t i = 0; i < PA_ARRAY_LEN(fixed); i++)
            printf("%s\n", fixed[i]);
        for (size_t i = 0; i < c.n; i++)
            free(c.w[i]);
        free(c.w);
    } else {
        char line[4096];
        while (fgets(line, sizeof line, stdin)) {
            size_t n = strcspn(line, "\n");
            line[n] = '\0';
            int cat = pa_detect_key_category(d, line, n, NULL);
            printf("%s\t%s\n", line, cat >= 0 ? pa_detect_category_name(d, cat) : "");
        }
    }
    pa_detect_free(d);
    pa_config_free(cfg);
    return 0;
}
