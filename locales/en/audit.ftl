# The audit log and the consent history: who did what, on what, and the details, as the pages show them.

## Actions (the audit log).
word-login = logged in
word-login_failed = login failed
word-password_changed = password changed
word-admin_added = admin added
word-admin_removed = admin removed
word-token_created = API token created
word-token_removed = API token removed
word-channel_created = channel created
word-channel_updated = channel changed
word-subscriber_added = subscribers added
word-broadcast_sent = broadcast sent
word-broadcast_scheduled = broadcast scheduled
word-broadcast_paused = broadcast paused
word-broadcast_resumed = broadcast resumed
word-broadcast_cancelled = broadcast cancelled
word-frequency_override = frequency overridden
word-export = data exported
word-erasure = erased
word-retention_sweep = retention sweep
word-backup = backup
word-restore = restore
word-key_rotated = key rotated
word-recovery_key_stored = recovery key stored
word-matrix_recovered = Matrix bot recovered
word-inbox_replied = inbox reply
word-gateway_tested = gateway tested
word-webhook_created = webhook created
word-webhook_removed = webhook removed
word-webhook_enabled = webhook switched on again
word-subscriber_language_changed = a person's language changed
word-webhook_disabled = webhook switched off after a day of failures

## Consent events (a subscriber's history).
word-optin_requested = sign-up requested
word-optin_confirmed = sign-up confirmed
word-optin_expired = sign-up expired
word-optout = signed off
word-import = added with consent
word-admin_change = changed by an admin
word-erased = erased

## Who did it.
word-subscriber = the subscriber
word-provider = the SMS provider
word-cli = command line
word-system = herold
word-anonymous = unknown
actor-admin = admin { $id }
actor-token = API token { $id }

## Roles and token scopes.
word-viewer = viewer
word-editor = editor
word-owner = owner
word-read = read
word-send = send
word-write = write

## What an entry is about.
target-subscriber = subscriber { $id }
target-broadcast = broadcast { $id }
target-channel = channel { $id }
target-token = token { $id }
target-webhook = webhook { $id }
target-inbox = inbox message { $id }

## Details.
audit-first-owner = first owner, through the setup link
audit-sessions-ended = sessions ended
audit-room-created = announcement room created
audit-room-dropped = announcement room dropped
audit-wording-version = wording version { $version }
audit-scheduled = at { $at }
audit-scheduled-overridden = at { $at }; the declared frequency was overridden: { $reason }
audit-frequency-overridden = the declared frequency was overridden: { $reason }
audit-deliveries-cancelled = { $n } deliveries cancelled
audit-export-page = as a page
audit-export-json = as JSON
audit-retention = { $erased } contacts erased, { $inbox } inbox messages and { $deliveries } delivery rows deleted
audit-backup-scheduled = scheduled; { $pruned } old backups deleted
audit-backup-data = data, by hand
audit-backup-keyring = keyring, by hand
audit-restored = { $erased } erasures applied again; { $keyless } subscribers without a key erased
audit-recovery-key-stored = stored elsewhere by an owner; herold forgot it
audit-bot-signed = the bot's device was signed again
audit-subscribers-added = { $n } added
audit-test-sent = test message taken by the gateway (its id { $id })
audit-unknown-user = unknown user
audit-imported = imported: { $new } new, { $known } known, { $subscriptions } subscriptions
word-draft_saved = draft saved
word-draft_submitted = draft submitted for approval
word-draft_approved = draft approved
word-draft_returned = draft sent back with a comment
word-draft_deleted = draft deleted
word-broadcast_unscheduled = scheduled broadcast back to drafts
word-broadcast_tested = test of a broadcast sent
audit-draft-approved = from draft { $draft } by { $author }
audit-unscheduled = now draft { $draft }
audit-test-broadcast = { $sent } of { $count } test messages sent
word-thread_assigned = conversation taken
word-thread_closed = conversation done
word-thread_reopened = conversation reopened
word-keyword_answer_added = keyword answer added
word-keyword_answer_removed = keyword answer removed
audit-thread-assigned = to { $admin }
audit-thread-unassigned = to nobody
word-team_room_created = team room created
word-team_room_dropped = team room switched off
audit-team-room-created = { $n } invited
