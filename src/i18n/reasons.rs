//! A delivery's or a broadcast's [`Reason`] in a reader's language (`locales/*/reasons.ftl`); a reason
//! that names another (gave up after n attempts: …) renders that one in the same language.

use super::{Arg, Lang, text};
use crate::domain::Reason;

pub fn reason(lang: Lang, r: &Reason) -> String {
    let gw = |g: &String| ("gateway", Arg::from(g));
    let inner = |c: &Reason| ("cause", Arg::Text(reason(lang, c)));
    match r {
        Reason::GatewayUnreachable { gateway } => text(lang, "reason-gateway-unreachable", &[gw(gateway)]),
        Reason::GatewayTimedOut { gateway } => text(lang, "reason-gateway-timed-out", &[gw(gateway)]),
        Reason::GatewayFailed { gateway } => text(lang, "reason-gateway-failed", &[gw(gateway)]),
        Reason::GatewayAnswered { gateway, status } => {
            text(lang, "reason-gateway-answered", &[gw(gateway), ("status", status.into())])
        }
        Reason::GatewayRefusedCredentials { gateway, status } => {
            text(lang, "reason-gateway-refused-credentials", &[gw(gateway), ("status", status.into())])
        }
        Reason::GatewayRefusedMessage { gateway, detail } => {
            text(lang, "reason-gateway-refused-message", &[gw(gateway), ("detail", detail.into())])
        }
        Reason::GatewayUnreadable { gateway, detail } => {
            text(lang, "reason-gateway-unreadable", &[gw(gateway), ("detail", detail.into())])
        }
        Reason::TooManyParts { gateway, parts, max } => {
            text(lang, "reason-too-many-parts", &[gw(gateway), ("parts", parts.into()), ("max", max.into())])
        }
        Reason::NoGatewayRoute => text(lang, "reason-no-gateway-route", &[]),
        Reason::GatewayReported { detail } => text(lang, "reason-gateway-reported", &[("detail", detail.into())]),
        Reason::OptedOutWithProvider { gateway } => text(lang, "reason-opted-out-with-provider", &[gw(gateway)]),
        Reason::RateLimitedGateway => text(lang, "reason-rate-limited-gateway", &[]),
        Reason::DayQuotaReached { gateway } => text(lang, "reason-day-quota", &[gw(gateway)]),
        Reason::MonthQuotaReached { gateway } => text(lang, "reason-month-quota", &[gw(gateway)]),
        Reason::GatewayLimitReached { gateway } => text(lang, "reason-gateway-limit", &[gw(gateway)]),
        Reason::QuietHours => text(lang, "reason-quiet-hours", &[]),
        Reason::CapReached => text(lang, "reason-cap-reached", &[]),
        Reason::RateLimitedHomeserver => text(lang, "reason-rate-limited-homeserver", &[]),
        Reason::HomeserverUnreachable => text(lang, "reason-homeserver-unreachable", &[]),
        Reason::HomeserverFailed => text(lang, "reason-homeserver-failed", &[]),
        Reason::HomeserverRefused { errcode } => {
            text(lang, "reason-homeserver-refused", &[("errcode", errcode.into())])
        }
        Reason::HomeserverError { errcode } => text(lang, "reason-homeserver-error", &[("errcode", errcode.into())]),
        Reason::SessionRejected => text(lang, "reason-session-rejected", &[]),
        Reason::BotNotConnected => text(lang, "reason-bot-not-connected", &[]),
        Reason::NoMatrix => text(lang, "reason-no-matrix", &[]),
        Reason::DmGone => text(lang, "reason-dm-gone", &[]),
        Reason::NotInRoom => text(lang, "reason-not-in-room", &[]),
        Reason::BadRoom => text(lang, "reason-bad-room", &[]),
        Reason::BadAddress => text(lang, "reason-bad-address", &[]),
        Reason::NoRooms => text(lang, "reason-no-rooms", &[]),
        Reason::NoAnswer { seconds } => text(lang, "reason-no-answer", &[("seconds", seconds.into())]),
        Reason::SandboxFailed => text(lang, "reason-sandbox-failed", &[]),
        Reason::Unreadable => text(lang, "reason-unreadable", &[]),
        Reason::Misconfigured { cause } => text(lang, "reason-misconfigured", &[inner(cause)]),
        Reason::GaveUp { attempts, cause } => {
            text(lang, "reason-gave-up", &[("attempts", attempts.into()), inner(cause)])
        }
        Reason::Left { cause } => text(lang, "reason-left", &[inner(cause)]),
        Reason::OptedOut => text(lang, "reason-opted-out", &[]),
        Reason::BroadcastCancelled => text(lang, "reason-broadcast-cancelled", &[]),
        Reason::DeadlinePassed => text(lang, "reason-deadline-passed", &[]),
        Reason::AddressGone => text(lang, "reason-address-gone", &[]),
        Reason::FailingPaused { fails, total, cause } => {
            text(lang, "reason-failing-paused", &[("fails", fails.into()), ("total", total.into()), inner(cause)])
        }
        Reason::PausedByAdmin => text(lang, "reason-paused-by-admin", &[]),
        Reason::PausedByApi => text(lang, "reason-paused-by-api", &[]),
        Reason::EndpointUnreachable => text(lang, "reason-endpoint-unreachable", &[]),
        Reason::EndpointTimedOut => text(lang, "reason-endpoint-timed-out", &[]),
        Reason::EndpointAnswered { status } => text(lang, "reason-endpoint-answered", &[("status", status.into())]),
        Reason::Earlier => text(lang, "reason-earlier", &[]),
    }
}
