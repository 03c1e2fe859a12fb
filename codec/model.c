/* model.c — the descriptor tables: the UFTP 3.1.0 XSDs transcribed as data.
 *
 * Read this file beside ../shared/uftp-spec/xsd-3.1.0/: every complex type
 * there is one table here, attributes in schema order (base type first),
 * child elements in sequence order with their minOccurs/maxOccurs. The
 * reader, writer and comparator know nothing about UFTP beyond these. */
#include <string.h>

#include "codec/model.h"

_Static_assert(sizeof(enum fx_result) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum fx_redispatch) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum fx_disposition) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum fx_settlement_disposition) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum fx_profile_type) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum fx_metering_unit) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum fx_role) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(struct fx_msg) < 32768 && sizeof(struct fx_signed) < 32768, "offsets fit int16");

#define N(a) ((uint8_t)(sizeof(a) / sizeof((a)[0])))
#define REQ FX_A_REQUIRED
#define OPT 0
#define DEF FX_A_DEFAULT

/* Attribute descriptors. O = offset of the value, H = offset of has_*. */
#define ATTR(nm, k, fl, o, h, d) {.name = nm, .kind = k, .flags = fl, .off = (uint16_t)(o), .has_off = (int16_t)(h), .def = d}
#define ENUM(nm, fl, o, tbl, tn) \
  {.name = nm, .kind = FX_K_ENUM, .flags = fl, .off = (uint16_t)(o), .has_off = -1, .names = tbl, .n_names = N(tbl), .bad_enum = "enumeration " tn}
#define CHILD(nm, t, mn, mx, arr, cnt) {nm, &t, mn, mx, (uint16_t)(arr), (uint16_t)(cnt)}
#define TYPE(nm, T, at, ch) {nm, (uint16_t)sizeof(T), N(at), N(ch), at, ch}
#define TYPE_NOCH(nm, T, at) {nm, (uint16_t)sizeof(T), N(at), 0, at, NULL}

static const char *const result_names[] = {NULL, "Accepted", "Rejected"};
static const char *const role_names[] = {NULL, "AGR", "CRO", "DSO"};
static const char *const redispatch_names[] = {NULL, "AGR", "DSO"};
static const char *const disposition_names[] = {NULL, "Available", "Requested"};
static const char *const settlement_names[] = {NULL, "Accepted", "Disputed"};
static const char *const profile_names[] = {NULL, "Power", "ImportEnergy", "ExportEnergy",
                                            "ImportMeterReading", "ExportMeterReading"};
static const char *const unit_names[] = {NULL, "kW", "kWh"};

/* ---------------------------------------------------- nested element types */

#define E(T, f) offsetof(T, f)

/* D-PrognosisISPType: Start and Duration are plain xs:integer there. */
static const struct fx_attr prognosis_isp_attrs[] = {
    ATTR("Power", FX_K_INTEGER, REQ, E(struct fx_isp, power), -1, 0),
    ATTR("Start", FX_K_INTEGER, REQ, E(struct fx_isp, start), -1, 0),
    ATTR("Duration", FX_K_INTEGER, DEF, E(struct fx_isp, duration), -1, 1),
};
static const struct fx_type prognosis_isp = TYPE_NOCH("D-PrognosisISPType", struct fx_isp, prognosis_isp_attrs);

/* FlexReservationUpdateISPType, FlexOfferOptionISPType, FlexOrderISPType. */
static const struct fx_attr isp_attrs[] = {
    ATTR("Power", FX_K_INTEGER, REQ, E(struct fx_isp, power), -1, 0),
    ATTR("Start", FX_K_POSINT, REQ, E(struct fx_isp, start), -1, 0),
    ATTR("Duration", FX_K_POSINT, DEF, E(struct fx_isp, duration), -1, 1),
};
static const struct fx_type isp = TYPE_NOCH("FlexOfferOptionISPType", struct fx_isp, isp_attrs);

#define FRI struct fx_flex_request_isp
static const struct fx_attr flex_request_isp_attrs[] = {
    ENUM("Disposition", OPT, E(FRI, disposition), disposition_names, "AvailableRequestedType"),
    ATTR("MinPower", FX_K_INTEGER, REQ, E(FRI, min_power), -1, 0),
    ATTR("MaxPower", FX_K_INTEGER, REQ, E(FRI, max_power), -1, 0),
    ATTR("Start", FX_K_POSINT, REQ, E(FRI, start), -1, 0),
    ATTR("Duration", FX_K_POSINT, DEF, E(FRI, duration), -1, 1),
};
static const struct fx_type flex_request_isp = TYPE_NOCH("FlexRequestISPType", FRI, flex_request_isp_attrs);

#define OO struct fx_offer_option
static const struct fx_attr offer_option_attrs[] = {
    ATTR("OptionReference", FX_K_STRING, REQ, E(OO, option_reference), -1, 0),
    ATTR("Price", FX_K_MONEY, REQ, E(OO, price), -1, 0),
    ATTR("MinActivationFactor", FX_K_FACTOR, DEF, E(OO, min_activation_factor), -1, FX_FACTOR_ONE),
};
static const struct fx_child offer_option_children[] = {
    CHILD("ISP", isp, 1, 0, E(OO, isps), E(OO, n_isps)),
};
static const struct fx_type offer_option = TYPE("FlexOfferOptionType", OO, offer_option_attrs, offer_option_children);

#define FOS struct fx_flex_order_status
static const struct fx_attr flex_order_status_attrs[] = {
    ATTR("FlexOrderMessageID", FX_K_UUID, REQ, E(FOS, flex_order_message_id), -1, 0),
    ATTR("IsValidated", FX_K_BOOL, REQ, E(FOS, is_validated), -1, 0),
};
static const struct fx_type flex_order_status = TYPE_NOCH("FlexOrderStatusType", FOS, flex_order_status_attrs);

#define SI struct fx_settlement_isp
static const struct fx_attr settlement_isp_attrs[] = {
    ATTR("Start", FX_K_POSINT, REQ, E(SI, start), -1, 0),
    ATTR("Duration", FX_K_POSINT, DEF, E(SI, duration), -1, 1),
    ATTR("BaselinePower", FX_K_INTEGER, REQ, E(SI, baseline_power), -1, 0),
    ATTR("OrderedFlexPower", FX_K_INTEGER, REQ, E(SI, ordered_flex_power), -1, 0),
    ATTR("ActualPower", FX_K_INTEGER, REQ, E(SI, actual_power), -1, 0),
    ATTR("DeliveredFlexPower", FX_K_INTEGER, REQ, E(SI, delivered_flex_power), -1, 0),
    ATTR("PowerDeficiency", FX_K_INTEGER, DEF, E(SI, power_deficiency), -1, 0),
};
static const struct fx_type settlement_isp = TYPE_NOCH("FlexOrderSettlementISPType", SI, settlement_isp_attrs);

#define FOSE struct fx_flex_order_settlement
static const struct fx_attr flex_order_settlement_attrs[] = {
    ATTR("OrderReference", FX_K_STRING, OPT, E(FOSE, order_reference), -1, 0),
    ATTR("Period", FX_K_DATE, REQ, E(FOSE, period), -1, 0),
    ATTR("ContractID", FX_K_STRING, OPT, E(FOSE, contract_id), -1, 0),
    ATTR("D-PrognosisMessageID", FX_K_UUID, OPT, E(FOSE, d_prognosis_message_id),
         E(FOSE, has_d_prognosis_message_id), 0),
    ATTR("BaselineReference", FX_K_STRING, OPT, E(FOSE, baseline_reference), -1, 0),
    ATTR("CongestionPoint", FX_K_ENTITY, REQ, E(FOSE, congestion_point), -1, 0),
    ATTR("Price", FX_K_MONEY, REQ, E(FOSE, price), -1, 0),
    ATTR("Penalty", FX_K_MONEY, DEF, E(FOSE, penalty), -1, 0),
    ATTR("NetSettlement", FX_K_MONEY, REQ, E(FOSE, net_settlement), -1, 0),
};
static const struct fx_child flex_order_settlement_children[] = {
    CHILD("ISP", settlement_isp, 1, 0, E(FOSE, isps), E(FOSE, n_isps)),
};
static const struct fx_type flex_order_settlement =
    TYPE("FlexOrderSettlementType", FOSE, flex_order_settlement_attrs, flex_order_settlement_children);

#define CSI struct fx_contract_settlement_isp
static const struct fx_attr contract_isp_attrs[] = {
    ATTR("Start", FX_K_POSINT, REQ, E(CSI, start), -1, 0),
    ATTR("Duration", FX_K_POSINT, DEF, E(CSI, duration), -1, 1),
    ATTR("ReservedPower", FX_K_INTEGER, REQ, E(CSI, reserved_power), -1, 0),
    ATTR("RequestedPower", FX_K_INTEGER, OPT, E(CSI, requested_power), E(CSI, has_requested_power), 0),
    ATTR("AvailablePower", FX_K_INTEGER, OPT, E(CSI, available_power), E(CSI, has_available_power), 0),
    ATTR("OfferedPower", FX_K_INTEGER, OPT, E(CSI, offered_power), E(CSI, has_offered_power), 0),
    ATTR("OrderedPower", FX_K_INTEGER, OPT, E(CSI, ordered_power), E(CSI, has_ordered_power), 0),
};
static const struct fx_type contract_isp = TYPE_NOCH("ContractSettlementISPType", CSI, contract_isp_attrs);

#define CSP struct fx_contract_settlement_period
static const struct fx_attr contract_period_attrs[] = {
    ATTR("Period", FX_K_DATE, REQ, E(CSP, period), -1, 0),
};
static const struct fx_child contract_period_children[] = {
    CHILD("ISP", contract_isp, 1, 0, E(CSP, isps), E(CSP, n_isps)),
};
static const struct fx_type contract_period =
    TYPE("ContractSettlementPeriodType", CSP, contract_period_attrs, contract_period_children);

#define CS struct fx_contract_settlement
static const struct fx_attr contract_settlement_attrs[] = {
    ATTR("ContractID", FX_K_STRING, OPT, E(CS, contract_id), -1, 0),
};
static const struct fx_child contract_settlement_children[] = {
    CHILD("Period", contract_period, 1, 0, E(CS, periods), E(CS, n_periods)),
};
static const struct fx_type contract_settlement =
    TYPE("ContractSettlementType", CS, contract_settlement_attrs, contract_settlement_children);

#define OSS struct fx_flex_order_settlement_status
static const struct fx_attr settlement_status_attrs[] = {
    ATTR("OrderReference", FX_K_STRING, OPT, E(OSS, order_reference), -1, 0),
    ENUM("Disposition", REQ, E(OSS, disposition), settlement_names, "AcceptedDisputedType"),
    ATTR("DisputeReason", FX_K_STRING, OPT, E(OSS, dispute_reason), -1, 0),
};
static const struct fx_type settlement_status = TYPE_NOCH("FlexOrderSettlementStatusType", OSS, settlement_status_attrs);

#define MI struct fx_metering_isp
static const struct fx_attr metering_isp_attrs[] = {
    ATTR("Start", FX_K_INTEGER, REQ, E(MI, start), -1, 0),
    ATTR("Value", FX_K_DECIMAL, REQ, E(MI, value), -1, 0),
};
static const struct fx_type metering_isp = TYPE_NOCH("MeteringISPType", MI, metering_isp_attrs);

#define MP struct fx_metering_profile
static const struct fx_attr metering_profile_attrs[] = {
    ENUM("ProfileType", REQ, E(MP, profile_type), profile_names, "MeteringProfileEnum"),
    ENUM("Unit", REQ, E(MP, unit), unit_names, "MeteringUnitType"),
};
static const struct fx_child metering_profile_children[] = {
    CHILD("ISP", metering_isp, 1, 0, E(MP, isps), E(MP, n_isps)),
};
static const struct fx_type metering_profile =
    TYPE("MeteringProfileType", MP, metering_profile_attrs, metering_profile_children);

#define PC struct fx_portfolio_connection
static const struct fx_attr portfolio_connection_attrs[] = {
    ATTR("EntityAddress", FX_K_ENTITY, REQ, E(PC, entity_address), -1, 0),
    ATTR("StartPeriod", FX_K_DATE, REQ, E(PC, start_period), -1, 0),
    ATTR("EndPeriod", FX_K_DATE, OPT, E(PC, end_period), E(PC, has_end_period), 0),
};
static const struct fx_type portfolio_connection =
    TYPE_NOCH("DSOPortfolioUpdateConnectionType", PC, portfolio_connection_attrs);

static const struct fx_attr entity_ref_attrs[] = {
    ATTR("EntityAddress", FX_K_ENTITY, REQ, E(struct fx_entity_ref, entity_address), -1, 0),
};
static const struct fx_type entity_ref =
    TYPE_NOCH("AGRPortfolioQueryResponseConnectionType", struct fx_entity_ref, entity_ref_attrs);

#define ACP struct fx_agr_congestion_point
static const struct fx_attr agr_cp_attrs[] = {
    ATTR("EntityAddress", FX_K_ENTITY, REQ, E(ACP, entity_address), -1, 0),
    ATTR("MutexOffersSupported", FX_K_BOOL, REQ, E(ACP, mutex_offers_supported), -1, 0),
    ENUM("DayAheadRedispatchBy", REQ, E(ACP, day_ahead_redispatch_by), redispatch_names, "RedispatchByType"),
    ENUM("IntradayRedispatchBy", OPT, E(ACP, intraday_redispatch_by), redispatch_names, "RedispatchByType"),
};
static const struct fx_child agr_cp_children[] = {
    CHILD("Connection", entity_ref, 1, 0, E(ACP, connections), E(ACP, n_connections)),
};
static const struct fx_type agr_cp = TYPE("AGRPortfolioQueryResponseCongestionPointType", ACP, agr_cp_attrs, agr_cp_children);

#define DP struct fx_dso_portfolio
static const struct fx_attr dso_portfolio_attrs[] = {
    ATTR("DSO-Domain", FX_K_DOMAIN, REQ, E(DP, dso_domain), -1, 0),
};
static const struct fx_child dso_portfolio_children[] = {
    CHILD("CongestionPoint", agr_cp, 1, 0, E(DP, congestion_points), E(DP, n_congestion_points)),
};
static const struct fx_type dso_portfolio =
    TYPE("AGRPortfolioQueryResponseDSOPortfolioType", DP, dso_portfolio_attrs, dso_portfolio_children);

#define DV struct fx_dso_view
static const struct fx_child dso_view_children[] = {
    CHILD("DSO-Portfolio", dso_portfolio, 1, 0, E(DV, dso_portfolios), E(DV, n_dso_portfolios)),
    CHILD("Connection", entity_ref, 0, 0, E(DV, connections), E(DV, n_connections)),
};
static const struct fx_type dso_view = {"AGRPortfolioQueryResponseDSOViewType", sizeof(DV), 0, N(dso_view_children),
                                        NULL, dso_view_children};

#define DCP struct fx_dso_congestion_point
static const struct fx_attr dso_cp_attrs[] = {
    ATTR("EntityAddress", FX_K_ENTITY, REQ, E(DCP, entity_address), -1, 0),
    ATTR("StartPeriod", FX_K_DATE, REQ, E(DCP, start_period), -1, 0),
    ATTR("EndPeriod", FX_K_DATE, OPT, E(DCP, end_period), E(DCP, has_end_period), 0),
    ATTR("MutexOffersSupported", FX_K_BOOL, REQ, E(DCP, mutex_offers_supported), -1, 0),
    ENUM("DayAheadRedispatchBy", REQ, E(DCP, day_ahead_redispatch_by), redispatch_names, "RedispatchByType"),
    ENUM("IntradayRedispatchBy", OPT, E(DCP, intraday_redispatch_by), redispatch_names, "RedispatchByType"),
};
static const struct fx_child dso_cp_children[] = {
    CHILD("Connection", portfolio_connection, 1, 0, E(DCP, connections), E(DCP, n_connections)),
};
static const struct fx_type dso_cp = TYPE("DSOPortfolioUpdateCongestionPoint", DCP, dso_cp_attrs, dso_cp_children);

#define DQC struct fx_dso_query_connection
static const struct fx_attr dso_query_connection_attrs[] = {
    ATTR("EntityAddress", FX_K_ENTITY, REQ, E(DQC, entity_address), -1, 0),
    ATTR("AGR-Domain", FX_K_DOMAIN, OPT, E(DQC, agr_domain), -1, 0),
};
static const struct fx_type dso_query_connection =
    TYPE_NOCH("DSOPortfolioQueryConnectionType", DQC, dso_query_connection_attrs);

#define DQCP struct fx_dso_query_congestion_point
static const struct fx_attr dso_query_cp_attrs[] = {
    ATTR("EntityAddress", FX_K_ENTITY, REQ, E(DQCP, entity_address), -1, 0),
};
static const struct fx_child dso_query_cp_children[] = {
    CHILD("Connection", dso_query_connection, 1, 0, E(DQCP, connections), E(DQCP, n_connections)),
};
static const struct fx_type dso_query_cp =
    TYPE("DSOPortfolioQueryCongestionPointType", DQCP, dso_query_cp_attrs, dso_query_cp_children);

/* --------------------------------------------------------------- messages */

#define M(f) offsetof(struct fx_msg, f)
#define NOCH(f) -1

#define HDR_ATTRS                                                              \
  ATTR("Version", FX_K_VERSION, REQ, M(hdr.version), -1, 0),                   \
  ATTR("SenderDomain", FX_K_DOMAIN, REQ, M(hdr.sender_domain), -1, 0),         \
  ATTR("RecipientDomain", FX_K_DOMAIN, REQ, M(hdr.recipient_domain), -1, 0),   \
  ATTR("TimeStamp", FX_K_DATETIME, REQ, M(hdr.timestamp), -1, 0),              \
  ATTR("MessageID", FX_K_UUID, REQ, M(hdr.message_id), -1, 0),                 \
  ATTR("ConversationID", FX_K_UUID, REQ, M(hdr.conversation_id), -1, 0)

#define RESP_ATTRS HDR_ATTRS,                                                  \
  ENUM("Result", REQ, M(result), result_names, "AcceptedRejectedType"),        \
  ATTR("RejectionReason", FX_K_STRING, OPT, M(rejection_reason), -1, 0)

#define FLEX_ATTRS(u_)                                                         \
  ATTR("ISP-Duration", FX_K_DURATION, REQ, M(u.u_.flex.isp_duration), -1, 0),  \
  ATTR("TimeZone", FX_K_TZNAME, REQ, M(u.u_.flex.time_zone), -1, 0),           \
  ATTR("Period", FX_K_DATE, REQ, M(u.u_.flex.period), -1, 0),                  \
  ATTR("CongestionPoint", FX_K_ENTITY, REQ, M(u.u_.flex.congestion_point), -1, 0)

#define REF(nm, f) ATTR(nm, FX_K_UUID, REQ, M(f), -1, 0)

static const struct fx_attr hdr_attrs[] = {HDR_ATTRS};
static const struct fx_type test_message = TYPE_NOCH("TestMessageType", struct fx_msg, hdr_attrs);
static const struct fx_type test_message_response = TYPE_NOCH("TestMessageResponseType", struct fx_msg, hdr_attrs);

static const struct fx_attr apu_attrs[] = {
    HDR_ATTRS, ATTR("TimeZone", FX_K_TZNAME, REQ, M(u.agr_portfolio_update.time_zone), -1, 0)};
static const struct fx_child apu_children[] = {
    CHILD("Connection", portfolio_connection, 1, 0, M(u.agr_portfolio_update.connections),
          M(u.agr_portfolio_update.n_connections)),
};
static const struct fx_type apu = TYPE("AGRPortfolioUpdateType", struct fx_msg, apu_attrs, apu_children);

static const struct fx_attr apu_r_attrs[] = {
    RESP_ATTRS, REF("AGRPortfolioUpdateMessageID", u.agr_portfolio_update_response.agr_portfolio_update_message_id)};
static const struct fx_type apu_r = TYPE_NOCH("AGRPortfolioUpdateResponseType", struct fx_msg, apu_r_attrs);

static const struct fx_attr apq_attrs[] = {
    HDR_ATTRS, ATTR("TimeZone", FX_K_TZNAME, REQ, M(u.agr_portfolio_query.time_zone), -1, 0),
    ATTR("Period", FX_K_DATE, REQ, M(u.agr_portfolio_query.period), -1, 0)};
static const struct fx_type apq = TYPE_NOCH("AGRPortfolioQueryType", struct fx_msg, apq_attrs);

#define APQR u.agr_portfolio_query_response
static const struct fx_attr apq_r_attrs[] = {
    RESP_ATTRS, ATTR("TimeZone", FX_K_TZNAME, REQ, M(APQR.time_zone), -1, 0),
    REF("AGRPortfolioQueryMessageID", APQR.agr_portfolio_query_message_id),
    ATTR("Period", FX_K_DATE, REQ, M(APQR.period), -1, 0)};
static const struct fx_child apq_r_children[] = {
    CHILD("DSO-View", dso_view, 1, 0, M(APQR.dso_views), M(APQR.n_dso_views)),
};
static const struct fx_type apq_r = TYPE("AGRPortfolioQueryResponseType", struct fx_msg, apq_r_attrs, apq_r_children);

static const struct fx_attr dpu_attrs[] = {
    HDR_ATTRS, ATTR("TimeZone", FX_K_TZNAME, REQ, M(u.dso_portfolio_update.time_zone), -1, 0)};
static const struct fx_child dpu_children[] = {
    CHILD("CongestionPoint", dso_cp, 1, 0, M(u.dso_portfolio_update.congestion_points),
          M(u.dso_portfolio_update.n_congestion_points)),
};
static const struct fx_type dpu = TYPE("DSOPortfolioUpdateType", struct fx_msg, dpu_attrs, dpu_children);

static const struct fx_attr dpu_r_attrs[] = {
    RESP_ATTRS, REF("DSOPortfolioUpdateResponseMessageID",
                    u.dso_portfolio_update_response.dso_portfolio_update_response_message_id)};
static const struct fx_type dpu_r = TYPE_NOCH("DSOPortfolioUpdateResponseType", struct fx_msg, dpu_r_attrs);

static const struct fx_attr dpq_attrs[] = {
    HDR_ATTRS, ATTR("TimeZone", FX_K_TZNAME, REQ, M(u.dso_portfolio_query.time_zone), -1, 0),
    ATTR("Period", FX_K_DATE, REQ, M(u.dso_portfolio_query.period), -1, 0),
    ATTR("EntityAddress", FX_K_ENTITY, REQ, M(u.dso_portfolio_query.entity_address), -1, 0)};
static const struct fx_type dpq = TYPE_NOCH("DSOPortfolioQueryType", struct fx_msg, dpq_attrs);

#define DPQR u.dso_portfolio_query_response
static const struct fx_attr dpq_r_attrs[] = {
    RESP_ATTRS, REF("DSOPortfolioQueryMessageID", DPQR.dso_portfolio_query_message_id),
    ATTR("TimeZone", FX_K_TZNAME, REQ, M(DPQR.time_zone), -1, 0),
    ATTR("Period", FX_K_DATE, REQ, M(DPQR.period), -1, 0)};
static const struct fx_child dpq_r_children[] = {
    CHILD("CongestionPoint", dso_query_cp, 0, 1, M(DPQR.congestion_point), M(DPQR.n_congestion_point)),
};
static const struct fx_type dpq_r = TYPE("DSOPortfolioQueryResponseType", struct fx_msg, dpq_r_attrs, dpq_r_children);

#define FRU u.flex_reservation_update
static const struct fx_attr fru_attrs[] = {
    HDR_ATTRS, FLEX_ATTRS(flex_reservation_update),
    ATTR("ContractID", FX_K_STRING, REQ, M(FRU.contract_id), -1, 0),
    ATTR("Reference", FX_K_STRING, REQ, M(FRU.reference), -1, 0)};
static const struct fx_child fru_children[] = {CHILD("ISP", isp, 1, 0, M(FRU.isps), M(FRU.n_isps))};
static const struct fx_type fru = TYPE("FlexReservationUpdateType", struct fx_msg, fru_attrs, fru_children);

static const struct fx_attr fru_r_attrs[] = {
    RESP_ATTRS,
    REF("FlexReservationUpdateMessageID", u.flex_reservation_update_response.flex_reservation_update_message_id)};
static const struct fx_type fru_r = TYPE_NOCH("FlexReservationUpdateResponseType", struct fx_msg, fru_r_attrs);

#define DPR u.d_prognosis
static const struct fx_attr dp_attrs[] = {
    HDR_ATTRS, FLEX_ATTRS(d_prognosis), ATTR("Revision", FX_K_LONG, REQ, M(DPR.revision), -1, 0)};
static const struct fx_child dp_children[] = {CHILD("ISP", prognosis_isp, 1, 0, M(DPR.isps), M(DPR.n_isps))};
static const struct fx_type dp = TYPE("D-PrognosisType", struct fx_msg, dp_attrs, dp_children);

#define DPRR u.d_prognosis_response
static const struct fx_attr dp_r_attrs[] = {RESP_ATTRS, REF("D-PrognosisMessageID", DPRR.d_prognosis_message_id)};
static const struct fx_child dp_r_children[] = {
    CHILD("FlexOrderStatus", flex_order_status, 0, 0, M(DPRR.flex_order_statuses), M(DPRR.n_flex_order_statuses)),
};
static const struct fx_type dp_r = TYPE("D-PrognosisResponseType", struct fx_msg, dp_r_attrs, dp_r_children);

#define FR u.flex_request
static const struct fx_attr fr_attrs[] = {
    HDR_ATTRS, FLEX_ATTRS(flex_request),
    ATTR("Revision", FX_K_LONG, REQ, M(FR.revision), -1, 0),
    ATTR("ExpirationDateTime", FX_K_DATETIME, REQ, M(FR.expiration_date_time), -1, 0),
    ATTR("ContractID", FX_K_STRING, OPT, M(FR.contract_id), -1, 0),
    ATTR("ServiceType", FX_K_STRING, OPT, M(FR.service_type), -1, 0)};
static const struct fx_child fr_children[] = {CHILD("ISP", flex_request_isp, 1, 0, M(FR.isps), M(FR.n_isps))};
static const struct fx_type fr = TYPE("FlexRequestType", struct fx_msg, fr_attrs, fr_children);

static const struct fx_attr fr_r_attrs[] = {
    RESP_ATTRS, REF("FlexRequestMessageID", u.flex_request_response.flex_request_message_id)};
static const struct fx_type fr_r = TYPE_NOCH("FlexRequestResponseType", struct fx_msg, fr_r_attrs);

#define FO u.flex_offer
static const struct fx_attr fo_attrs[] = {
    HDR_ATTRS, FLEX_ATTRS(flex_offer),
    ATTR("ExpirationDateTime", FX_K_DATETIME, REQ, M(FO.expiration_date_time), -1, 0),
    ATTR("Unsolicited", FX_K_BOOL, OPT, M(FO.unsolicited), M(FO.has_unsolicited), 0),
    ATTR("FlexRequestMessageID", FX_K_UUID, OPT, M(FO.flex_request_message_id), M(FO.has_flex_request_message_id), 0),
    ATTR("ContractID", FX_K_STRING, OPT, M(FO.contract_id), -1, 0),
    ATTR("D-PrognosisMessageID", FX_K_UUID, OPT, M(FO.d_prognosis_message_id), M(FO.has_d_prognosis_message_id), 0),
    ATTR("BaselineReference", FX_K_STRING, OPT, M(FO.baseline_reference), -1, 0),
    ATTR("Currency", FX_K_CURRENCY, REQ, M(FO.currency), -1, 0)};
static const struct fx_child fo_children[] = {
    CHILD("OfferOption", offer_option, 1, 0, M(FO.offer_options), M(FO.n_offer_options)),
};
static const struct fx_type fo = TYPE("FlexOfferType", struct fx_msg, fo_attrs, fo_children);

static const struct fx_attr fo_r_attrs[] = {RESP_ATTRS,
                                            REF("FlexOfferMessageID", u.flex_offer_response.flex_offer_message_id)};
static const struct fx_type fo_r = TYPE_NOCH("FlexOfferResponseType", struct fx_msg, fo_r_attrs);

static const struct fx_attr fofr_attrs[] = {HDR_ATTRS,
                                            REF("FlexOfferMessageID", u.flex_offer_revocation.flex_offer_message_id)};
static const struct fx_type fofr = TYPE_NOCH("FlexOfferRevocationType", struct fx_msg, fofr_attrs);

static const struct fx_attr fofr_r_attrs[] = {
    RESP_ATTRS,
    REF("FlexOfferRevocationMessageID", u.flex_offer_revocation_response.flex_offer_revocation_message_id)};
static const struct fx_type fofr_r = TYPE_NOCH("FlexOfferRevocationResponseType", struct fx_msg, fofr_r_attrs);

#define FOR u.flex_order
static const struct fx_attr for_attrs[] = {
    HDR_ATTRS, FLEX_ATTRS(flex_order),
    ATTR("Unsolicited", FX_K_BOOL, OPT, M(FOR.unsolicited), M(FOR.has_unsolicited), 0),
    ATTR("FlexOfferMessageID", FX_K_UUID, OPT, M(FOR.flex_offer_message_id), M(FOR.has_flex_offer_message_id), 0),
    ATTR("ServiceType", FX_K_STRING, OPT, M(FOR.service_type), -1, 0),
    ATTR("ContractID", FX_K_STRING, OPT, M(FOR.contract_id), -1, 0),
    ATTR("D-PrognosisMessageID", FX_K_UUID, OPT, M(FOR.d_prognosis_message_id), M(FOR.has_d_prognosis_message_id), 0),
    ATTR("BaselineReference", FX_K_STRING, OPT, M(FOR.baseline_reference), -1, 0),
    ATTR("Price", FX_K_MONEY, REQ, M(FOR.price), -1, 0),
    ATTR("Currency", FX_K_CURRENCY, REQ, M(FOR.currency), -1, 0),
    ATTR("OrderReference", FX_K_STRING, REQ, M(FOR.order_reference), -1, 0),
    ATTR("OptionReference", FX_K_STRING, OPT, M(FOR.option_reference), -1, 0),
    ATTR("ActivationFactor", FX_K_FACTOR, DEF, M(FOR.activation_factor), -1, FX_FACTOR_ONE)};
static const struct fx_child for_children[] = {CHILD("ISP", isp, 1, 0, M(FOR.isps), M(FOR.n_isps))};
static const struct fx_type for_ = TYPE("FlexOrderType", struct fx_msg, for_attrs, for_children);

static const struct fx_attr for_r_attrs[] = {RESP_ATTRS,
                                             REF("FlexOrderMessageID", u.flex_order_response.flex_order_message_id)};
static const struct fx_type for_r = TYPE_NOCH("FlexOrderResponseType", struct fx_msg, for_r_attrs);

#define FS u.flex_settlement
static const struct fx_attr fs_attrs[] = {
    RESP_ATTRS, ATTR("PeriodStart", FX_K_DATE, REQ, M(FS.period_start), -1, 0),
    ATTR("PeriodEnd", FX_K_DATE, REQ, M(FS.period_end), -1, 0),
    ATTR("Currency", FX_K_CURRENCY, REQ, M(FS.currency), -1, 0)};
static const struct fx_child fs_children[] = {
    CHILD("FlexOrderSettlement", flex_order_settlement, 1, 0, M(FS.flex_order_settlements),
          M(FS.n_flex_order_settlements)),
    CHILD("ContractSettlement", contract_settlement, 1, 0, M(FS.contract_settlements), M(FS.n_contract_settlements)),
};
static const struct fx_type fs = TYPE("FlexSettlementType", struct fx_msg, fs_attrs, fs_children);

#define FSR u.flex_settlement_response
static const struct fx_attr fs_r_attrs[] = {RESP_ATTRS, REF("FlexSettlementMessageID", FSR.flex_settlement_message_id)};
static const struct fx_child fs_r_children[] = {
    CHILD("FlexOrderSettlementStatus", settlement_status, 1, 0, M(FSR.flex_order_settlement_statuses),
          M(FSR.n_flex_order_settlement_statuses)),
};
static const struct fx_type fs_r = TYPE("FlexSettlementResponseType", struct fx_msg, fs_r_attrs, fs_r_children);

#define MET u.metering
static const struct fx_attr m_attrs[] = {
    HDR_ATTRS, ATTR("Revision", FX_K_LONG, REQ, M(MET.revision), -1, 0),
    ATTR("ISP-Duration", FX_K_DURATION, REQ, M(MET.isp_duration), -1, 0),
    ATTR("TimeZone", FX_K_TZNAME, REQ, M(MET.time_zone), -1, 0),
    ATTR("Currency", FX_K_CURRENCY, OPT, M(MET.currency), -1, 0),
    ATTR("Period", FX_K_DATE, REQ, M(MET.period), -1, 0),
    ATTR("EAN", FX_K_EAN, REQ, M(MET.ean), -1, 0)};
static const struct fx_child m_children[] = {
    CHILD("Profile", metering_profile, 1, 0, M(MET.profiles), M(MET.n_profiles)),
};
static const struct fx_type metering = TYPE("MeteringMessageType", struct fx_msg, m_attrs, m_children);

static const struct fx_attr m_r_attrs[] = {RESP_ATTRS, REF("MeteringMessageID", u.metering_response.metering_message_id)};
static const struct fx_type m_r = TYPE_NOCH("MeteringResponseType", struct fx_msg, m_r_attrs);

#define SM(f) offsetof(struct fx_signed, f)
static const struct fx_attr signed_attrs[] = {
    ATTR("SenderDomain", FX_K_DOMAIN, REQ, SM(sender_domain), -1, 0),
    ENUM("SenderRole", REQ, SM(sender_role), role_names, "USEF-RoleType"),
    ATTR("Body", FX_K_BASE64, REQ, SM(body), -1, 0),
};
static const struct fx_type signed_message = TYPE_NOCH("SignedMessageType", struct fx_signed, signed_attrs);

/* ------------------------------------------------------------ root table */

#define ROOT(el, t, res, fl, ref) {el, &t, res, fl, ref}
#define NOREF -1
static const struct fx_root roots[FX_MSG__COUNT] = {
    [FX_MSG_SIGNED_MESSAGE] = ROOT("SignedMessage", signed_message, false, false, NOREF),
    [FX_MSG_TEST_MESSAGE] = ROOT("TestMessage", test_message, false, false, NOREF),
    [FX_MSG_TEST_MESSAGE_RESPONSE] = ROOT("TestMessageResponse", test_message_response, false, false, NOREF),
    [FX_MSG_AGR_PORTFOLIO_UPDATE] = ROOT("AGRPortfolioUpdate", apu, false, false, NOREF),
    [FX_MSG_AGR_PORTFOLIO_UPDATE_RESPONSE] = ROOT("AGRPortfolioUpdateResponse", apu_r, true, false,
        M(u.agr_portfolio_update_response.agr_portfolio_update_message_id)),
    [FX_MSG_AGR_PORTFOLIO_QUERY] = ROOT("AGRPortfolioQuery", apq, false, false, NOREF),
    [FX_MSG_AGR_PORTFOLIO_QUERY_RESPONSE] = ROOT("AGRPortfolioQueryResponse", apq_r, true, false,
        M(APQR.agr_portfolio_query_message_id)),
    [FX_MSG_DSO_PORTFOLIO_UPDATE] = ROOT("DSOPortfolioUpdate", dpu, false, false, NOREF),
    [FX_MSG_DSO_PORTFOLIO_UPDATE_RESPONSE] = ROOT("DSOPortfolioUpdateResponse", dpu_r, true, false,
        M(u.dso_portfolio_update_response.dso_portfolio_update_response_message_id)),
    [FX_MSG_DSO_PORTFOLIO_QUERY] = ROOT("DSOPortfolioQuery", dpq, false, false, NOREF),
    [FX_MSG_DSO_PORTFOLIO_QUERY_RESPONSE] = ROOT("DSOPortfolioQueryResponse", dpq_r, true, false,
        M(DPQR.dso_portfolio_query_message_id)),
    [FX_MSG_FLEX_RESERVATION_UPDATE] = ROOT("FlexReservationUpdate", fru, false, true, NOREF),
    [FX_MSG_FLEX_RESERVATION_UPDATE_RESPONSE] = ROOT("FlexReservationUpdateResponse", fru_r, true, false,
        M(u.flex_reservation_update_response.flex_reservation_update_message_id)),
    [FX_MSG_D_PROGNOSIS] = ROOT("D-Prognosis", dp, false, true, NOREF),
    [FX_MSG_D_PROGNOSIS_RESPONSE] = ROOT("D-PrognosisResponse", dp_r, true, false, M(DPRR.d_prognosis_message_id)),
    [FX_MSG_FLEX_REQUEST] = ROOT("FlexRequest", fr, false, true, NOREF),
    [FX_MSG_FLEX_REQUEST_RESPONSE] = ROOT("FlexRequestResponse", fr_r, true, false,
        M(u.flex_request_response.flex_request_message_id)),
    [FX_MSG_FLEX_OFFER] = ROOT("FlexOffer", fo, false, true, NOREF),
    [FX_MSG_FLEX_OFFER_RESPONSE] = ROOT("FlexOfferResponse", fo_r, true, false,
        M(u.flex_offer_response.flex_offer_message_id)),
    [FX_MSG_FLEX_OFFER_REVOCATION] = ROOT("FlexOfferRevocation", fofr, false, false,
        M(u.flex_offer_revocation.flex_offer_message_id)),
    [FX_MSG_FLEX_OFFER_REVOCATION_RESPONSE] = ROOT("FlexOfferRevocationResponse", fofr_r, true, false,
        M(u.flex_offer_revocation_response.flex_offer_revocation_message_id)),
    [FX_MSG_FLEX_ORDER] = ROOT("FlexOrder", for_, false, true, NOREF),
    [FX_MSG_FLEX_ORDER_RESPONSE] = ROOT("FlexOrderResponse", for_r, true, false,
        M(u.flex_order_response.flex_order_message_id)),
    [FX_MSG_FLEX_SETTLEMENT] = ROOT("FlexSettlement", fs, true, false, NOREF),
    [FX_MSG_FLEX_SETTLEMENT_RESPONSE] = ROOT("FlexSettlementResponse", fs_r, true, false,
        M(FSR.flex_settlement_message_id)),
    [FX_MSG_METERING] = ROOT("Metering", metering, false, false, NOREF),
    [FX_MSG_METERING_RESPONSE] = ROOT("MeteringResponse", m_r, true, false, M(u.metering_response.metering_message_id)),
};

/* Every FlexMessageType keeps its flex header at the start of its member. */
_Static_assert(offsetof(struct fx_d_prognosis, flex) == 0 && offsetof(struct fx_flex_request, flex) == 0 &&
                   offsetof(struct fx_flex_offer, flex) == 0 && offsetof(struct fx_flex_order, flex) == 0 &&
                   offsetof(struct fx_flex_reservation_update, flex) == 0,
               "flex header first");

const struct fx_root *fx_model_root(enum fx_msg_type t) {
  if ((int)t <= FX_MSG_NONE || t >= FX_MSG__COUNT)
    return NULL;
  return &roots[t];
}

const char *fx_msg_type_name(enum fx_msg_type t) {
  const struct fx_root *r = fx_model_root(t);
  return r ? r->element : NULL;
}

enum fx_msg_type fx_msg_type_from_name(const char *name) {
  if (!name)
    return FX_MSG_NONE;
  for (int t = FX_MSG_NONE + 1; t < FX_MSG__COUNT; t++)
    if (!strcmp(roots[t].element, name))
      return (enum fx_msg_type)t;
  return FX_MSG_NONE;
}

bool fx_msg_type_has_result(enum fx_msg_type t) {
  const struct fx_root *r = fx_model_root(t);
  return r && r->has_result;
}

int fx_model_attr_index(const struct fx_type *t, const char *name) {
  for (int i = 0; i < t->n_attrs; i++)
    if (!strcmp(t->attrs[i].name, name))
      return i;
  return -1;
}

int fx_model_child_index(const struct fx_type *t, const char *name) {
  for (int i = 0; i < t->n_children; i++)
    if (!strcmp(t->children[i].name, name))
      return i;
  return -1;
}

const struct fx_flex_header *fx_msg_flex(const struct fx_msg *m) {
  const struct fx_root *r = fx_model_root(m->type);
  return r && r->flex ? (const struct fx_flex_header *)&m->u : NULL;
}

const struct fx_uuid *fx_msg_reference(const struct fx_msg *m) {
  const struct fx_root *r = fx_model_root(m->type);
  return r && r->ref_off >= 0 ? FX_CAT(m, r->ref_off, struct fx_uuid) : NULL;
}
