# Das Protokoll und der Einwilligungsverlauf: wer was getan hat, woran, und die Einzelheiten.

## Aktionen (Protokoll).
word-login = angemeldet
word-login_failed = Anmeldung fehlgeschlagen
word-password_changed = Passwort geändert
word-admin_added = Admin hinzugefügt
word-admin_removed = Admin entfernt
word-token_created = API-Token erstellt
word-token_removed = API-Token entfernt
word-channel_created = Kanal angelegt
word-channel_updated = Kanal geändert
word-subscriber_added = Abonnenten hinzugefügt
word-broadcast_sent = Sendung verschickt
word-broadcast_scheduled = Sendung geplant
word-broadcast_paused = Sendung angehalten
word-broadcast_resumed = Sendung fortgesetzt
word-broadcast_cancelled = Sendung abgebrochen
word-frequency_override = Häufigkeit überschritten
word-export = Daten ausgegeben
word-erasure = gelöscht
word-retention_sweep = Aufbewahrungsfristen angewandt
word-backup = Sicherung
word-restore = Wiederherstellung
word-key_rotated = Schlüssel gewechselt
word-recovery_key_stored = Wiederherstellungsschlüssel verwahrt
word-matrix_recovered = Matrix-Bot wiederhergestellt
word-inbox_replied = Antwort aus dem Posteingang
word-gateway_tested = Gateway getestet
word-webhook_created = Webhook eingerichtet
word-webhook_removed = Webhook entfernt
word-webhook_enabled = Webhook wieder eingeschaltet
word-subscriber_language_changed = Sprache einer Person geändert
word-webhook_disabled = Webhook nach einem Tag voller Fehler abgeschaltet

## Einwilligungsereignisse (Verlauf eines Abonnenten).
word-optin_requested = Anmeldung angefragt
word-optin_confirmed = Anmeldung bestätigt
word-optin_expired = Anmeldung verfallen
word-optout = abgemeldet
word-import = mit Einwilligung eingetragen
word-admin_change = von einem Admin geändert
word-erased = gelöscht

## Wer es getan hat.
word-subscriber = der Abonnent
word-provider = der SMS-Anbieter
word-cli = Kommandozeile
word-system = herold
word-anonymous = unbekannt
actor-admin = Admin { $id }
actor-token = API-Token { $id }

## Rollen und Token-Bereiche.
word-viewer = Betrachter
word-editor = Redakteur
word-owner = Eigentümer
word-read = lesen
word-send = senden
word-write = schreiben

## Worauf sich ein Eintrag bezieht.
target-subscriber = Abonnent { $id }
target-broadcast = Sendung { $id }
target-channel = Kanal { $id }
target-token = Token { $id }
target-webhook = Webhook { $id }
target-inbox = Posteingang { $id }

## Einzelheiten.
audit-first-owner = erster Eigentümer, über den Einrichtungslink
audit-sessions-ended = Sitzungen beendet
audit-room-created = Ankündigungsraum angelegt
audit-room-dropped = Ankündigungsraum aufgegeben
audit-wording-version = Wortlaut Version { $version }
audit-scheduled = für { $at }
audit-scheduled-overridden = für { $at }; die angekündigte Häufigkeit wurde überschritten: { $reason }
audit-frequency-overridden = die angekündigte Häufigkeit wurde überschritten: { $reason }
audit-deliveries-cancelled = { $n } Zustellungen abgebrochen
audit-export-page = als Seite
audit-export-json = als JSON
audit-retention = { $erased } Kontakte gelöscht, { $inbox } Posteingangsnachrichten und { $deliveries } Versandzeilen entfernt
audit-backup-scheduled = geplant; { $pruned } alte Sicherungen gelöscht
audit-backup-data = Daten, von Hand
audit-backup-keyring = Schlüsselbund, von Hand
audit-restored = { $erased } Löschungen erneut angewandt; { $keyless } Abonnenten ohne Schlüssel gelöscht
audit-recovery-key-stored = von einem Eigentümer anderswo verwahrt; herold hat ihn vergessen
audit-bot-signed = das Gerät des Bots wurde neu signiert
audit-subscribers-added = { $n } hinzugefügt
audit-test-sent = Testnachricht vom Gateway angenommen (seine ID { $id })
audit-unknown-user = unbekannter Benutzer
audit-imported = importiert: { $new } neu, { $known } bekannt, { $subscriptions } Anmeldungen
word-draft_saved = Entwurf gespeichert
word-draft_submitted = Entwurf zur Freigabe eingereicht
word-draft_approved = Entwurf freigegeben
word-draft_returned = Entwurf mit Kommentar zurückgegeben
word-draft_deleted = Entwurf gelöscht
word-broadcast_unscheduled = geplante Sendung zurück in die Entwürfe
word-broadcast_tested = Probe einer Sendung verschickt
audit-draft-approved = aus Entwurf { $draft } von { $author }
audit-unscheduled = jetzt Entwurf { $draft }
audit-test-broadcast = { $sent } von { $count } Probenachrichten verschickt
word-thread_assigned = Gespräch übernommen
word-thread_closed = Gespräch erledigt
word-thread_reopened = Gespräch wieder geöffnet
word-keyword_answer_added = Stichwort-Antwort angelegt
word-keyword_answer_removed = Stichwort-Antwort gelöscht
audit-thread-assigned = an { $admin }
audit-thread-unassigned = niemandem mehr
word-team_room_created = Team-Raum angelegt
word-team_room_dropped = Team-Raum abgeschaltet
audit-team-room-created = { $n } eingeladen
