# Why something was refused or cannot be done, as the admin pages and the API say it.
# Each key is a code the services give (see src/domain/problem.rs); `{ $name }` is filled in.

transport-unknown = transport must be sandbox, sms or matrix
phone-empty = the phone number is empty
phone-too-long = the phone number is too long
phone-not-a-number = not a phone number (use international form, e.g. +49 151 …)
phone-not-in-plan = this phone number does not exist in its country's numbering plan
phone-too-many-digits = a phone number has at most 15 digits with its country code
matrix-id-form = a Matrix id looks like @name:example.org
subscriber-id-form = a subscriber id has 16 hex digits
address-needed = enter a full phone number or Matrix id
kind-unknown = kind must be broadcast or newsletter
opt-in-unknown = opt-in mode must be single or double
period-unknown = frequency period must be day, week or month
channel-name-length = the name must have 1 to 80 characters
keyword-form = the keyword must be 2 to 20 letters or digits, no spaces
keyword-is-command = { $keyword } is a command word (START, STOP, HELP, …) and cannot be a channel keyword
description-too-long = the description may have at most 2000 characters
text-too-long = each text may have at most 1000 characters
transport-needed = choose at least one transport
frequency-range = the declared frequency must be 1 to 1000 per period
clock-time-form = times of day are written HH:MM, e.g. 21:00
over-cap-unknown = over the cap: wait or skip
keyword-taken = another channel already uses the keyword { $keyword }
channel-missing = there is no channel { $channel }
channels-missing = one of the channels does not exist
matrix-not-configured = no Matrix bot is configured (see docs/gateways.md)
room-exists = this channel already has an announcement room
language-unknown = language must be de or en
consent-source-needed = say where and how consent was given (1 to 1000 characters)
address-twice = the same address is in the list twice
address-registered = this address is already registered
already-subscribed = already subscribed to this channel
channel-unknown = unknown channel
state-unknown = unknown state
message-empty = the message is empty
message-too-long = the message is longer than { $max } characters
channel-needed = choose at least one channel
idempotency-key-needed = a broadcast needs an idempotency key of 1 to 100 characters
deadline-before-send = the deadline must be after the send time
sms-too-many-parts = as SMS this is { $parts } parts; at most { $max } are sent. Shorten it{ $archive ->
    [yes] , or turn on the channel's public archive
   *[no] {""}
}.
sms-over-gateway-max = as SMS this is { $parts } parts, but gateway { $gateway } sends at most { $max } (its max_parts). Shorten it{ $archive ->
    [yes] , or turn on the channel's public archive
   *[no] {""}
}.
sms-over-gateway-max-plain = as SMS this is { $parts } parts, but gateway { $gateway } sends at most { $max } (its max_parts)
sms-too-many-parts-plain = as SMS this is { $parts } parts; at most { $max } are sent
frequency-promise-reached = { $channel } promised at most { $max } per { $period }; { $count } already went out or are planned. Only an owner can send anyway, with a reason.
broadcast-state-change = the broadcast is { $from }; it cannot become { $to }
reply-length = a reply needs 1 to 1600 characters
sender-erased = the sender was erased
sender-opted-out = the sender has opted out since: nothing more is sent to them
user-name-form = a user name has 2 to 64 letters, digits or . _ - @
setup-link-invalid = this setup link is not valid (any more)
owner-exists = an owner already exists
admin-exists = an admin named { $name } already exists
last-owner = the last owner cannot be removed
role-unknown = role must be owner, editor or viewer
token-name-length = a token needs a name of 1 to 80 characters
webhook-url-form = a webhook address must start with http:// or https:// and name a host
webhook-events-none = choose at least one event for the webhook
password-too-short = the password needs at least 10 characters
password-too-long = the password may have at most 1024 characters
not-found = not found
forbidden = you may not do this
too-many-attempts = too many attempts; wait a minute and try again
storage-unavailable = storage is unavailable right now; try again shortly
internal-error = something went wrong on our side; the details are in the server log
time-form = { $input } is not a time like 2026-12-24T18:00
frequency-number = the declared frequency must be a number
scope-unknown = scope must be read or write
room-or-dms = a channel reaches Matrix either by private DMs or by one announcement room: remove Matrix (DMs) from its transports first
consent-kind-unknown = unknown consent event kind { $kind }
idempotency-key-form = the Idempotency-Key header must have 1 to 64 visible characters
token-missing = missing or unknown API token
body-too-large = the request body is too large
body-not-json = the request body must be JSON (Content-Type: application/json)
body-wrong-fields = the JSON has missing, unknown or wrongly typed fields (see /api/v1 in docs/guide.md)
body-malformed = the request body is not valid JSON
query-malformed = the query string has an unknown or malformed parameter
idempotency-key-reused = this Idempotency-Key was used for another text or other channels
import-no-header = the file has no header row
import-no-address-column = the header row names no address column (number, phone, matrix or address)
import-too-many-rows = an import may have at most { $max } rows
import-note-too-long = a name or note may have at most { $max } characters
import-unreadable-row = this line cannot be read
time-zone-unknown = this time zone is unknown (expected an IANA name like Europe/Berlin)
frequency-override-owner = only an owner may send over a channel's declared frequency
frequency-override-reason = the reason may have at most 300 characters
