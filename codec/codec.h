/* codec.h — the UFTP 3.1.0 message model, its XML reader and writer.
 *
 * This is the only header other modules include from codec/ (the signing,
 * base64 and key helpers add their own small headers beside it). It holds:
 *
 *   - value types: power and integers as int64_t, money as int64_t units of
 *     1e-4 (fx_money), activation factors as integer hundredths, exact
 *     decimals, UUIDs as 16 bytes, xs:dateTime as a UTC instant plus the
 *     original offset, xs:date as a calendar date, xs:duration as months plus
 *     microseconds. No binary floating point anywhere.
 *   - struct fx_msg: one typed struct per UFTP message (a union), mirroring
 *     the official XSDs in ../shared/uftp-spec/xsd-3.1.0/ attribute by
 *     attribute and element by element.
 *   - fx_reader: a reused libxml2 SAX2 parser context that reads one inner
 *     message (or a SignedMessage envelope), applies every schema check and
 *     builds the model in an arena. Hostile input is bounded by fx_limits.
 *   - fx_write_msg / fx_write_signed: streaming XML writers (no DOM).
 *   - fx_msg_equal: semantic equality naming the first difference;
 *     fx_msg_copy: a deep copy into an arena.
 *
 * Building a message (for tests and the engine): zero a struct fx_msg, set
 * .type, fill .hdr and the union member for that type. Strings and arrays are
 * BORROWED: the writer only reads them, so they may live on the stack, in
 * static storage, or in an fx_arena (fx_arena_alloc / fx_arena_strdup) that
 * the caller frees in one go. Optional attributes: a NULL string, a false
 * has_* flag, or an enum value of 0 (..._NONE) means "absent". Attributes
 * with an XSD default (Duration, MinActivationFactor, ActivationFactor,
 * Penalty, PowerDeficiency) hold the effective value; the reader fills in
 * the default when the attribute is absent, so 0 is NOT "absent" for them:
 * set them explicitly (fx_msg_set_defaults() does it for a whole message).
 *
 * Everything here is reentrant: a reader or buffer is used by one thread at
 * a time; there is no global mutable state. See docs/codec.md. */
#ifndef FLEXD_CODEC_H
#define FLEXD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

enum fx_err_code {
  FX_OK = 0,
  FX_E_ARG,          /* bad argument (NULL, unknown type, ...) */
  FX_E_NOMEM,        /* allocation failed */
  FX_E_LIMIT,        /* an fx_limits bound was exceeded */
  FX_E_XML,          /* not well-formed XML (libxml2's message in why) */
  FX_E_FORBIDDEN,    /* DTD, entity declaration or reference, xsi:type... */
  FX_E_ROOT,         /* root element is not the expected kind of message */
  FX_E_ELEMENT,      /* unknown or misplaced element */
  FX_E_ATTRIBUTE,    /* unknown attribute */
  FX_E_REQUIRED,     /* required attribute missing */
  FX_E_VALUE,        /* value breaks its type: lexical form, pattern, facet */
  FX_E_RANGE,        /* value valid in XSD but outside what flexd represents
                        (xs:integer beyond int64, decimal beyond 18 digits) */
  FX_E_CARDINALITY,  /* minOccurs / maxOccurs violated */
  FX_E_TEXT,         /* character data where the schema allows none */
};

/* Where and why a read or write failed. `where` is a path such as
 * "FlexOffer/OfferOption[2]/ISP[3]@Power" (1-based indexes among siblings
 * of the same name); `why` names the broken rule, e.g. "not an integer",
 * "required attribute missing", "fractionDigits > 4", "pattern UUIDType". */
struct fx_error {
  int code; /* enum fx_err_code */
  char where[128];
  char why[160];
};

/* Short constant name of an error code ("value", "limit", ...). */
const char *fx_err_name(int code);

/* ----------------------------------------------------------- value types */

typedef int64_t fx_money; /* CurrencyAmountType: units of 1e-4 (4 decimals) */
#define FX_MONEY_SCALE 10000

/* ActivationFactorType (0.01..1.00, 2 fraction digits) in hundredths. */
typedef uint8_t fx_factor;
#define FX_FACTOR_ONE 100

struct fx_uuid {
  uint8_t b[16];
};

/* xs:dateTime with a mandatory offset: the UTC instant and the offset it was
 * written with, so that writing back reproduces the same local time. */
struct fx_datetime {
  int64_t usec;       /* microseconds since 1970-01-01T00:00:00Z */
  int16_t offset_min; /* original UTC offset in minutes (-840..840) */
};

/* xs:date (PeriodType). xs:date may carry a time zone; almost nobody sends
 * one, but the schema allows it, so it is kept. */
struct fx_date {
  int16_t year; /* 1..9999 */
  uint8_t month; /* 1..12 */
  uint8_t day;   /* 1..days in month */
  bool has_tz;
  int16_t tz_min; /* -840..840 when has_tz */
};

/* xs:duration: months and microseconds carry the same sign. PT15M is
 * {0, 900000000}. */
struct fx_duration {
  int32_t months;
  int64_t usec;
};

/* Exact xs:decimal: value = mantissa / 10^scale, at most 18 digits. */
struct fx_decimal {
  int64_t mantissa;
  uint8_t scale; /* 0..18 */
};

/* Value helpers. Parsers take a (pointer, length) pair, return 0 or -1 and,
 * on error, a static reason string through *why (may be NULL). Formatters
 * return the length written (always NUL-terminated, buffer sizes below). */
#define FX_UUID_STRLEN 37     /* 36 chars + NUL */
#define FX_DATETIME_STRLEN 40
#define FX_DATE_STRLEN 24
#define FX_DURATION_STRLEN 64
#define FX_NUMBER_STRLEN 48   /* money, decimals, factors, integers */

int fx_uuid_parse(const char *s, size_t n, struct fx_uuid *out, const char **why);
size_t fx_uuid_format(const struct fx_uuid *u, char out[FX_UUID_STRLEN]);
bool fx_uuid_equal(const struct fx_uuid *a, const struct fx_uuid *b);

int fx_datetime_parse(const char *s, size_t n, struct fx_datetime *out, const char **why);
size_t fx_datetime_format(const struct fx_datetime *t, char out[FX_DATETIME_STRLEN]);

int fx_date_parse(const char *s, size_t n, struct fx_date *out, const char **why);
size_t fx_date_format(const struct fx_date *d, char out[FX_DATE_STRLEN]);
bool fx_date_valid(const struct fx_date *d);
int32_t fx_date_to_days(const struct fx_date *d); /* days since 1970-01-01 */
void fx_date_from_days(int32_t days, struct fx_date *out); /* no time zone */

int fx_duration_parse(const char *s, size_t n, struct fx_duration *out, const char **why);
size_t fx_duration_format(const struct fx_duration *d, char out[FX_DURATION_STRLEN]);

int fx_money_parse(const char *s, size_t n, fx_money *out, const char **why);
size_t fx_money_format(fx_money m, char out[FX_NUMBER_STRLEN]);

int fx_decimal_parse(const char *s, size_t n, struct fx_decimal *out, const char **why);
size_t fx_decimal_format(const struct fx_decimal *d, char out[FX_NUMBER_STRLEN]);
/* Removes trailing zero fraction digits: 1.50 and 1.5 normalise alike. */
struct fx_decimal fx_decimal_normal(struct fx_decimal d);

/* ----------------------------------------------------------- enumerations
 * Value 0 of every enumeration means "absent" (for optional attributes) or
 * "not set" (a required one: the writer rejects it). */

enum fx_role { FX_ROLE_NONE = 0, FX_ROLE_AGR, FX_ROLE_CRO, FX_ROLE_DSO };
enum fx_result { FX_RESULT_NONE = 0, FX_RESULT_ACCEPTED, FX_RESULT_REJECTED };
enum fx_redispatch { FX_REDISPATCH_NONE = 0, FX_REDISPATCH_AGR, FX_REDISPATCH_DSO };
enum fx_disposition { /* AvailableRequestedType */
  FX_DISPOSITION_NONE = 0,
  FX_DISPOSITION_AVAILABLE,
  FX_DISPOSITION_REQUESTED,
};
enum fx_settlement_disposition { /* AcceptedDisputedType */
  FX_SETTLEMENT_NONE = 0,
  FX_SETTLEMENT_ACCEPTED,
  FX_SETTLEMENT_DISPUTED,
};
enum fx_profile_type { /* MeteringProfileEnum */
  FX_PROFILE_NONE = 0,
  FX_PROFILE_POWER,
  FX_PROFILE_IMPORT_ENERGY,
  FX_PROFILE_EXPORT_ENERGY,
  FX_PROFILE_IMPORT_METER_READING,
  FX_PROFILE_EXPORT_METER_READING,
};
enum fx_metering_unit { FX_UNIT_NONE = 0, FX_UNIT_KW, FX_UNIT_KWH };

/* One per top-level element of the 3.1.0 schemas, responses included. */
enum fx_msg_type {
  FX_MSG_NONE = 0,
  FX_MSG_SIGNED_MESSAGE, /* envelope: read with fx_read_signed only */
  FX_MSG_TEST_MESSAGE,
  FX_MSG_TEST_MESSAGE_RESPONSE,
  FX_MSG_AGR_PORTFOLIO_UPDATE,
  FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE,
  FX_MSG_AGR_PORTFOLIO_QUERY,
  FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE,
  FX_MSG_DSO_PORTFOLIO_UPDATE,
  FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE,
  FX_MSG_DSO_PORTFOLIO_QUERY,
  FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE,
  FX_MSG_FLEX_RESERVATION_UPDATE,
  FX_MSG_FLEX_RESERVATION_UPDATE_RESPONSE,
  FX_MSG_D_PROGNOSIS,
  FX_MSG_D_PROGNOSIS_RESPONSE,
  FX_MSG_FLEX_REQUEST,
  FX_MSG_FLEX_REQUEST_RESPONSE,
  FX_MSG_FLEX_OFFER,
  FX_MSG_FLEX_OFFER_RESPONSE,
  FX_MSG_FLEX_OFFER_REVOCATION,
  FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE,
  FX_MSG_FLEX_ORDER,
  FX_MSG_FLEX_ORDER_RESPONSE,
  FX_MSG_FLEX_SETTLEMENT,
  FX_MSG_FLEX_SETTLEMENT_RESPONSE,
  FX_MSG_METERING,
  FX_MSG_METERING_RESPONSE,
  FX_MSG__COUNT
};

/* The XML element name ("D-Prognosis"), or NULL for an invalid type. */
const char *fx_msg_type_name(enum fx_msg_type t);
/* The type for an element name (exact, case-sensitive), FX_MSG_NONE if none. */
enum fx_msg_type fx_msg_type_from_name(const char *name);
/* True for types deriving from PayloadMessageResponseType (Result and
 * RejectionReason apply). Note: FlexSettlement is one of them in 3.1.0,
 * and TestMessageResponse is not. */
bool fx_msg_type_has_result(enum fx_msg_type t);

/* --------------------------------------------------------------- the model */

/* PayloadMessageType: the metadata every inner message carries. */
struct fx_msg_header {
  const char *version;          /* SpecVersion, e.g. "3.1.0" */
  const char *sender_domain;    /* InternetDomainType */
  const char *recipient_domain; /* InternetDomainType */
  struct fx_datetime timestamp;
  struct fx_uuid message_id;
  struct fx_uuid conversation_id;
};

/* FlexMessageType: shared by D-Prognosis, FlexReservationUpdate,
 * FlexRequest, FlexOffer and FlexOrder (always their first member). */
struct fx_flex_header {
  struct fx_duration isp_duration;
  const char *time_zone;        /* TimeZoneNameType */
  struct fx_date period;
  const char *congestion_point; /* EntityAddressType */
};

/* ISP with Power/Start/Duration (D-Prognosis, FlexReservationUpdate,
 * FlexOffer OfferOption, FlexOrder). D-Prognosis Start/Duration are
 * xs:integer, the others xs:positiveInteger; Duration defaults to 1. */
struct fx_isp {
  int64_t power; /* watts; positive = consumption */
  int64_t start;
  int64_t duration;
};

struct fx_flex_request_isp {
  enum fx_disposition disposition; /* optional, no default */
  int64_t min_power;
  int64_t max_power;
  int64_t start;
  int64_t duration;
};

/* AGRPortfolioUpdate/Connection, DSOPortfolioUpdate/CongestionPoint/Connection */
struct fx_portfolio_connection {
  const char *entity_address;
  struct fx_date start_period;
  bool has_end_period;
  struct fx_date end_period;
};

struct fx_agr_portfolio_update {
  const char *time_zone;
  struct fx_portfolio_connection *connections; size_t n_connections; /* 1.. */
};
struct fx_agr_portfolio_update_response {
  struct fx_uuid agr_portfolio_update_message_id;
};
struct fx_agr_portfolio_query {
  const char *time_zone;
  struct fx_date period;
};

/* AGRPortfolioQueryResponse/DSO-View/.../Connection: just an address. */
struct fx_entity_ref {
  const char *entity_address;
};
struct fx_agr_congestion_point {
  const char *entity_address;
  bool mutex_offers_supported;
  enum fx_redispatch day_ahead_redispatch_by; /* required */
  enum fx_redispatch intraday_redispatch_by;  /* optional */
  struct fx_entity_ref *connections; size_t n_connections; /* 1.. */
};
struct fx_dso_portfolio {
  const char *dso_domain;
  struct fx_agr_congestion_point *congestion_points; size_t n_congestion_points; /* 1.. */
};
struct fx_dso_view {
  struct fx_dso_portfolio *dso_portfolios; size_t n_dso_portfolios; /* 1.. */
  struct fx_entity_ref *connections; size_t n_connections;          /* 0.. */
};
struct fx_agr_portfolio_query_response {
  const char *time_zone;
  struct fx_uuid agr_portfolio_query_message_id;
  struct fx_date period;
  struct fx_dso_view *dso_views; size_t n_dso_views; /* 1.. */
};

struct fx_dso_congestion_point {
  const char *entity_address;
  struct fx_date start_period;
  bool has_end_period;
  struct fx_date end_period;
  bool mutex_offers_supported;
  enum fx_redispatch day_ahead_redispatch_by;
  enum fx_redispatch intraday_redispatch_by;
  struct fx_portfolio_connection *connections; size_t n_connections; /* 1.. */
};
struct fx_dso_portfolio_update {
  const char *time_zone;
  struct fx_dso_congestion_point *congestion_points; size_t n_congestion_points; /* 1.. */
};
struct fx_dso_portfolio_update_response {
  /* sic: the 3.1.0 XSD names it DSOPortfolioUpdateResponseMessageID */
  struct fx_uuid dso_portfolio_update_response_message_id;
};
struct fx_dso_portfolio_query {
  const char *time_zone;
  struct fx_date period;
  const char *entity_address;
};
struct fx_dso_query_connection {
  const char *entity_address;
  const char *agr_domain; /* optional */
};
struct fx_dso_query_congestion_point {
  const char *entity_address;
  struct fx_dso_query_connection *connections; size_t n_connections; /* 1.. */
};
struct fx_dso_portfolio_query_response {
  struct fx_uuid dso_portfolio_query_message_id;
  const char *time_zone;
  struct fx_date period;
  struct fx_dso_query_congestion_point *congestion_point; size_t n_congestion_point; /* 0..1 */
};

struct fx_d_prognosis {
  struct fx_flex_header flex;
  int64_t revision; /* xs:long */
  struct fx_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_flex_order_status {
  struct fx_uuid flex_order_message_id;
  bool is_validated;
};
struct fx_d_prognosis_response {
  struct fx_uuid d_prognosis_message_id;
  struct fx_flex_order_status *flex_order_statuses; size_t n_flex_order_statuses; /* 0.. */
};

struct fx_flex_reservation_update {
  struct fx_flex_header flex;
  const char *contract_id;
  const char *reference;
  struct fx_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_flex_reservation_update_response {
  struct fx_uuid flex_reservation_update_message_id;
};

struct fx_flex_request {
  struct fx_flex_header flex;
  int64_t revision;
  struct fx_datetime expiration_date_time;
  const char *contract_id;  /* optional */
  const char *service_type; /* optional */
  struct fx_flex_request_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_flex_request_response {
  struct fx_uuid flex_request_message_id;
};

struct fx_offer_option {
  const char *option_reference; /* required by the XSD (see docs/codec.md) */
  fx_money price;
  fx_factor min_activation_factor; /* default 1.00 */
  struct fx_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_flex_offer {
  struct fx_flex_header flex;
  struct fx_datetime expiration_date_time;
  /* Unsolicited has no default in 3.1.0: has_unsolicited = false keeps the
   * 3.0.0 meaning (solicited iff FlexRequestMessageID is present). */
  bool has_unsolicited;
  bool unsolicited;
  bool has_flex_request_message_id;
  struct fx_uuid flex_request_message_id;
  const char *contract_id; /* optional */
  bool has_d_prognosis_message_id;
  struct fx_uuid d_prognosis_message_id;
  const char *baseline_reference; /* optional */
  const char *currency;           /* ISO4217CurrencyType */
  struct fx_offer_option *offer_options; size_t n_offer_options; /* 1.. */
};
struct fx_flex_offer_response {
  struct fx_uuid flex_offer_message_id;
};
struct fx_flex_offer_revocation {
  struct fx_uuid flex_offer_message_id;
};
struct fx_flex_offer_revocation_response {
  struct fx_uuid flex_offer_revocation_message_id;
};

struct fx_flex_order {
  struct fx_flex_header flex;
  bool has_unsolicited; /* as in FlexOffer */
  bool unsolicited;
  bool has_flex_offer_message_id;
  struct fx_uuid flex_offer_message_id;
  const char *service_type; /* optional */
  const char *contract_id;  /* optional */
  bool has_d_prognosis_message_id;
  struct fx_uuid d_prognosis_message_id;
  const char *baseline_reference; /* optional */
  fx_money price;
  const char *currency;
  const char *order_reference;
  const char *option_reference; /* optional */
  fx_factor activation_factor;  /* default 1.00 */
  struct fx_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_flex_order_response {
  struct fx_uuid flex_order_message_id;
};

struct fx_settlement_isp { /* FlexOrderSettlementISPType */
  int64_t start;
  int64_t duration; /* default 1 */
  int64_t baseline_power;
  int64_t ordered_flex_power;
  int64_t actual_power;
  int64_t delivered_flex_power;
  int64_t power_deficiency; /* default 0 */
};
struct fx_flex_order_settlement {
  const char *order_reference; /* optional in the XSD */
  struct fx_date period;
  const char *contract_id; /* optional */
  bool has_d_prognosis_message_id;
  struct fx_uuid d_prognosis_message_id;
  const char *baseline_reference; /* optional */
  const char *congestion_point;
  fx_money price;
  fx_money penalty; /* default 0 */
  fx_money net_settlement;
  struct fx_settlement_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_contract_settlement_isp {
  int64_t start;
  int64_t duration; /* default 1 */
  int64_t reserved_power;
  bool has_requested_power;
  int64_t requested_power;
  bool has_available_power;
  int64_t available_power;
  bool has_offered_power;
  int64_t offered_power;
  bool has_ordered_power;
  int64_t ordered_power;
};
struct fx_contract_settlement_period {
  struct fx_date period;
  struct fx_contract_settlement_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_contract_settlement {
  const char *contract_id; /* optional in the XSD */
  struct fx_contract_settlement_period *periods; size_t n_periods; /* 1.. */
};
struct fx_flex_settlement { /* extends PayloadMessageResponseType in 3.1.0 */
  struct fx_date period_start;
  struct fx_date period_end;
  const char *currency;
  struct fx_flex_order_settlement *flex_order_settlements; size_t n_flex_order_settlements; /* 1.. */
  struct fx_contract_settlement *contract_settlements; size_t n_contract_settlements;       /* 1.. */
};
struct fx_flex_order_settlement_status {
  const char *order_reference; /* optional */
  enum fx_settlement_disposition disposition;
  const char *dispute_reason; /* optional */
};
struct fx_flex_settlement_response {
  struct fx_uuid flex_settlement_message_id;
  struct fx_flex_order_settlement_status *flex_order_settlement_statuses;
  size_t n_flex_order_settlement_statuses; /* 1.. */
};

struct fx_metering_isp {
  int64_t start; /* xs:integer */
  struct fx_decimal value;
};
struct fx_metering_profile {
  enum fx_profile_type profile_type;
  enum fx_metering_unit unit;
  struct fx_metering_isp *isps; size_t n_isps; /* 1.. */
};
struct fx_metering {
  int64_t revision;
  struct fx_duration isp_duration;
  const char *time_zone;
  const char *currency; /* optional */
  struct fx_date period;
  const char *ean; /* EANType */
  struct fx_metering_profile *profiles; size_t n_profiles; /* 1.. */
};
struct fx_metering_response {
  struct fx_uuid metering_message_id;
};

/* One inner UFTP message. `result` and `rejection_reason` are meaningful
 * only when fx_msg_type_has_result(type). */
struct fx_msg {
  enum fx_msg_type type;
  struct fx_msg_header hdr;
  enum fx_result result;
  const char *rejection_reason; /* optional */
  union {
    struct fx_agr_portfolio_update agr_portfolio_update;
    struct fx_agr_portfolio_update_response agr_portfolio_update_response;
    struct fx_agr_portfolio_query agr_portfolio_query;
    struct fx_agr_portfolio_query_response agr_portfolio_query_response;
    struct fx_dso_portfolio_update dso_portfolio_update;
    struct fx_dso_portfolio_update_response dso_portfolio_update_response;
    struct fx_dso_portfolio_query dso_portfolio_query;
    struct fx_dso_portfolio_query_response dso_portfolio_query_response;
    struct fx_flex_reservation_update flex_reservation_update;
    struct fx_flex_reservation_update_response flex_reservation_update_response;
    struct fx_d_prognosis d_prognosis;
    struct fx_d_prognosis_response d_prognosis_response;
    struct fx_flex_request flex_request;
    struct fx_flex_request_response flex_request_response;
    struct fx_flex_offer flex_offer;
    struct fx_flex_offer_response flex_offer_response;
    struct fx_flex_offer_revocation flex_offer_revocation;
    struct fx_flex_offer_revocation_response flex_offer_revocation_response;
    struct fx_flex_order flex_order;
    struct fx_flex_order_response flex_order_response;
    struct fx_flex_settlement flex_settlement;
    struct fx_flex_settlement_response flex_settlement_response;
    struct fx_metering metering;
    struct fx_metering_response metering_response;
  } u;
};

/* The flex header of a FlexMessageType message, NULL for other types. */
const struct fx_flex_header *fx_msg_flex(const struct fx_msg *m);
/* For a response (and FlexOfferRevocation), the MessageID it refers to, e.g.
 * FlexOfferResponse@FlexOfferMessageID; NULL for other types. */
const struct fx_uuid *fx_msg_reference(const struct fx_msg *m);
/* Sets every defaulted attribute (Duration=1, MinActivationFactor=1.00,
 * ActivationFactor=1.00, Penalty=0, PowerDeficiency=0) of a message being
 * built whose value is still 0. Arrays must already be filled in. */
void fx_msg_set_defaults(struct fx_msg *m);

/* SignedMessage envelope. `body` is the base64 text of the Body attribute
 * (surrounding whitespace removed). fx_read_signed also decodes it, once,
 * while checking it is xs:base64Binary: `decoded` is what CS1 signed
 * (64-byte signature followed by the inner message, NUL-terminated, the NUL
 * not counted), ready for fx_sign_open_decoded (codec/sign.h) without a
 * second pass over the text. The writer ignores `decoded`. */
struct fx_signed {
  const char *sender_domain;
  enum fx_role sender_role;
  const char *body;
  size_t body_len;
  const uint8_t *decoded;
  size_t decoded_len;
};

/* ------------------------------------------------------------------ arena */

/* A bump allocator. Everything the reader builds lives in one; callers may
 * use their own to build messages. Freed all at once. */
typedef struct fx_arena fx_arena;

/* max_bytes: hard cap on the bytes it will hand out (0 = no cap). */
fx_arena *fx_arena_new(size_t max_bytes);
void fx_arena_free(fx_arena *a);
/* Forgets every allocation; keeps the first block for reuse. */
void fx_arena_reset(fx_arena *a);
/* Zeroed, aligned for any type; NULL when out of memory or over the cap. */
void *fx_arena_alloc(fx_arena *a, size_t size);
char *fx_arena_strndup(fx_arena *a, const char *s, size_t n);
char *fx_arena_strdup(fx_arena *a, const char *s);
/* Bytes handed out since creation or the last reset. */
size_t fx_arena_used(const fx_arena *a);

/* ----------------------------------------------------------------- reader */

struct fx_limits {
  uint32_t max_depth;       /* element nesting depth (UFTP needs 5) */
  uint32_t max_attrs;       /* attributes (and xmlns declarations) per element */
  uint32_t max_attr_len;    /* bytes of one attribute value as written (not Body) */
  uint32_t max_elements;    /* elements per document */
  size_t max_input_bytes;   /* size of one document; also bounds Body */
  size_t max_arena_bytes;   /* memory for one decoded message */
};

/* Defaults: depth 16, 64 attributes, 64 KiB per attribute value, 262144
 * elements, 16 MiB input, 64 MiB arena. */
struct fx_limits fx_limits_default(void);

typedef struct fx_reader fx_reader;

/* A reader owns one libxml2 SAX2 parser context (created once, reset per
 * document), an arena and the buffers of the SignedMessage Body. limits == NULL means fx_limits_default().
 * NULL when out of memory. */
fx_reader *fx_reader_new(const struct fx_limits *limits);
void fx_reader_free(fx_reader *r);

/* Parses one inner message and applies every schema check. On success *out
 * points into the reader's arena and stays valid until the next read on
 * this reader or fx_reader_free. Returns 0, or -1 with *err filled. */
int fx_read_msg(fx_reader *r, const char *xml, size_t len,
                const struct fx_msg **out, struct fx_error *err);

/* The same, but the message is built in `dst` (not reset; the caller owns it
 * and its lifetime): for callers that hand the message to another thread
 * while the reader goes on with the next one. dst's cap bounds the memory as
 * max_arena_bytes does for the reader's own. NULL dst = fx_read_msg. */
int fx_read_msg_arena(fx_reader *r, fx_arena *dst, const char *xml, size_t len,
                      const struct fx_msg **out, struct fx_error *err);

/* Parses a SignedMessage envelope into *out (strings in the reader's arena,
 * valid as above). out->decoded lives in a buffer of the reader that only
 * fx_read_signed reuses: it stays valid across fx_read_msg calls on the same
 * reader (so the inner message can be read straight from it) until the next
 * fx_read_signed or fx_reader_free. Returns 0, or -1 with *err filled. */
int fx_read_signed(fx_reader *r, const char *xml, size_t len,
                   struct fx_signed *out, struct fx_error *err);

/* ----------------------------------------------------------------- writer */

/* A growable byte buffer; data is always NUL-terminated after a successful
 * append (the NUL is not counted in len). */
struct fx_buf {
  char *data;
  size_t len;
  size_t cap;
};
void fx_buf_init(struct fx_buf *b);
void fx_buf_free(struct fx_buf *b);
void fx_buf_reset(struct fx_buf *b); /* len = 0, memory kept */
int fx_buf_reserve(struct fx_buf *b, size_t extra); /* 0 or -1 (no memory) */
int fx_buf_append(struct fx_buf *b, const void *p, size_t n);

/* Appends the message as a UTF-8 XML document (declaration included) to
 * *out. The model is checked first with the reader's rules (required
 * values, patterns, ranges, cardinalities); a message that would not be
 * schema-valid is refused with -1 and *err filled, leaving out->len as it
 * was. Returns 0 on success. */
int fx_write_msg(const struct fx_msg *m, struct fx_buf *out, struct fx_error *err);
int fx_write_signed(const struct fx_signed *s, struct fx_buf *out, struct fx_error *err);

/* ------------------------------------------------------------- comparison */

/* 1 when a and b are semantically equal (same type; every attribute equal
 * by value: decimals compared by value, dateTimes by instant AND offset,
 * absent optional attributes equal only to absent ones; same elements in
 * the same order), else 0 with the first difference described in diff
 * (e.g. "FlexOffer/OfferOption[1]/ISP[3]@Power: 100 != 200") when diff is
 * not NULL. */
int fx_msg_equal(const struct fx_msg *a, const struct fx_msg *b, char *diff, size_t n);

/* A deep copy of inner message src in arena a (every string and element
 * array copied; nothing of the copy points into src): 0 with *out set, or -1
 * (arena exhausted, SignedMessage or an invalid type) with *out NULL. */
int fx_msg_copy(fx_arena *a, const struct fx_msg *src, const struct fx_msg **out);

#ifdef __cplusplus
}
#endif
#endif /* FLEXD_CODEC_H */
