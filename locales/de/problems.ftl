# Why something was refused or cannot be done, as the admin pages and the API say it.
# Each key is a code the services give (see src/domain/problem.rs); `{ $name }` is filled in.

transport-unknown = Transportweg muss sandbox, sms oder matrix sein
phone-empty = Die Telefonnummer ist leer
phone-too-long = Die Telefonnummer ist zu lang
phone-not-a-number = Keine Telefonnummer (internationale Form verwenden, z. B. +49 151 …)
phone-not-in-plan = Diese Telefonnummer gibt es im Nummernplan ihres Landes nicht
phone-too-many-digits = Eine Telefonnummer hat mit Ländervorwahl höchstens 15 Ziffern
matrix-id-form = Eine Matrix-ID sieht so aus: @name:example.org
subscriber-id-form = Eine Abonnenten-ID hat 16 Hexadezimalziffern
address-needed = Gib eine vollständige Telefonnummer oder Matrix-ID ein
kind-unknown = Art muss Rundsendung oder Newsletter sein
opt-in-unknown = Anmeldeverfahren muss einfach oder doppelt sein
period-unknown = Zeitraum muss Tag, Woche oder Monat sein
channel-name-length = Der Name muss 1 bis 80 Zeichen haben
keyword-form = Das Stichwort muss aus 2 bis 20 Buchstaben oder Ziffern bestehen, ohne Leerzeichen
keyword-is-command = { $keyword } ist ein Befehlswort (START, STOP, HILFE, …) und kann kein Kanal-Stichwort sein
description-too-long = Die Beschreibung darf höchstens 2000 Zeichen haben
text-too-long = Jeder Text darf höchstens 1000 Zeichen haben
transport-needed = Wähle mindestens einen Transportweg
frequency-range = Die angekündigte Häufigkeit muss 1 bis 1000 pro Zeitraum sein
clock-time-form = Uhrzeiten bitte als HH:MM, z. B. 21:00
over-cap-unknown = Über der Obergrenze: warten oder auslassen
keyword-taken = Ein anderer Kanal verwendet das Stichwort { $keyword } schon
channel-missing = Es gibt keinen Kanal { $channel }
channels-missing = Einer der Kanäle existiert nicht
matrix-not-configured = Kein Matrix-Bot eingerichtet (siehe docs/gateways.md)
room-exists = Dieser Kanal hat schon einen Ankündigungsraum
language-unknown = Sprache muss de oder en sein
consent-source-needed = Gib an, wo und wie die Einwilligung erteilt wurde (1 bis 1000 Zeichen)
address-twice = Dieselbe Adresse steht zweimal in der Liste
address-registered = Diese Adresse ist schon eingetragen
already-subscribed = Schon für diesen Kanal angemeldet
channel-unknown = Unbekannter Kanal
state-unknown = Unbekannter Zustand
message-empty = Die Nachricht ist leer
message-too-long = Die Nachricht ist länger als { $max } Zeichen
channel-needed = Wähle mindestens einen Kanal
idempotency-key-needed = Eine Rundsendung braucht einen Wiederholungsschlüssel mit 1 bis 100 Zeichen
deadline-before-send = Der Stichtag muss nach dem Sendezeitpunkt liegen
sms-too-many-parts = Als SMS sind das { $parts } Teile; gesendet werden höchstens { $max }. Kürze den Text{ $archive ->
    [yes] {" "}oder schalte das öffentliche Archiv des Kanals ein
   *[no] {""}
}.
sms-over-gateway-max = Als SMS sind das { $parts } Teile, aber Gateway { $gateway } sendet höchstens { $max } (sein max_parts). Kürze den Text{ $archive ->
    [yes] {" "}oder schalte das öffentliche Archiv des Kanals ein
   *[no] {""}
}.
sms-over-gateway-max-plain = Als SMS sind das { $parts } Teile, aber Gateway { $gateway } sendet höchstens { $max } (sein max_parts)
sms-too-many-parts-plain = Als SMS sind das { $parts } Teile; höchstens { $max } werden gesendet
frequency-promise-reached = { $channel } hat höchstens { $max } pro { $period } versprochen; { $count } sind schon verschickt oder geplant. Trotzdem senden kann nur ein Eigentümer, mit Begründung.
broadcast-state-change = Die Rundsendung ist { $from }; sie kann nicht { $to } werden
reply-length = Eine Antwort braucht 1 bis 1600 Zeichen
sender-erased = Der Absender wurde gelöscht
sender-opted-out = Der Absender hat sich inzwischen abgemeldet: Er bekommt nichts mehr
user-name-form = Ein Benutzername hat 2 bis 64 Buchstaben, Ziffern oder . _ - @
setup-link-invalid = Dieser Einrichtungslink ist (nicht mehr) gültig
owner-exists = Es gibt schon einen Eigentümer
admin-exists = Ein Admin namens { $name } existiert schon
last-owner = Der letzte Eigentümer kann nicht entfernt werden
role-unknown = Rolle muss Eigentümer, Redakteur oder Betrachter sein
token-name-length = Ein Token braucht einen Namen mit 1 bis 80 Zeichen
webhook-url-form = Die Adresse des Webhooks muss mit http:// oder https:// beginnen und einen Rechnernamen enthalten
webhook-events-none = Wähle mindestens ein Ereignis für den Webhook
password-too-short = Das Passwort braucht mindestens 10 Zeichen
password-too-long = Das Passwort darf höchstens 1024 Zeichen haben
not-found = Nicht gefunden
forbidden = Das darfst du nicht
too-many-attempts = Zu viele Versuche; warte eine Minute und versuche es erneut
storage-unavailable = Der Speicher ist gerade nicht verfügbar; versuche es gleich erneut
internal-error = Bei uns ist etwas schiefgegangen; die Einzelheiten stehen im Server-Protokoll
time-form = { $input } ist keine Zeit wie 2026-12-24T18:00
frequency-number = Die angekündigte Häufigkeit muss eine Zahl sein
scope-unknown = Bereich muss Lesen oder Schreiben sein
room-or-dms = Ein Kanal erreicht Matrix entweder über private Direktnachrichten oder über einen Ankündigungsraum: entferne zuerst Matrix (Direktnachrichten) aus seinen Transportwegen
consent-kind-unknown = Unbekannte Art von Einwilligungsereignis { $kind }
idempotency-key-form = Der Idempotency-Key-Header muss 1 bis 64 sichtbare Zeichen haben
token-missing = API-Token fehlt oder ist unbekannt
body-too-large = Der Inhalt der Anfrage ist zu groß
body-not-json = Der Inhalt der Anfrage muss JSON sein (Content-Type: application/json)
body-wrong-fields = Im JSON fehlen Felder, sind unbekannt oder haben den falschen Typ (siehe /api/v1 in docs/guide.md)
body-malformed = Der Inhalt der Anfrage ist kein gültiges JSON
query-malformed = Die Abfrage hat einen unbekannten oder fehlerhaften Parameter
idempotency-key-reused = Dieser Idempotency-Key wurde für einen anderen Text oder andere Kanäle verwendet
import-no-header = Die Datei hat keine Kopfzeile
import-no-address-column = Die Kopfzeile nennt keine Adressspalte (Nummer, Telefon, Matrix oder Adresse)
import-too-many-rows = Ein Import darf höchstens { $max } Zeilen haben
import-note-too-long = Ein Name oder eine Notiz darf höchstens { $max } Zeichen haben
import-unreadable-row = Diese Zeile ist nicht lesbar
time-zone-unknown = Diese Zeitzone ist unbekannt (erwartet: ein IANA-Name wie Europe/Berlin)
frequency-override-owner = Über die angekündigte Häufigkeit hinaus senden darf nur ein Eigentümer
frequency-override-reason = Die Begründung darf höchstens 300 Zeichen haben
