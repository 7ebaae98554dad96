# Was herold einer Person antwortet, die schreibt (SMS, Matrix). Kurz: jeder SMS-Teil kostet.

reply-frequency = {" "}(höchstens { $max } pro { $period })
reply-confirm-request = { $channel }{ $frequency }: Antworte JA, um Nachrichten zu bekommen. Ohne Antwort passiert nichts (gilt { $hours } Std.).
reply-leave-hint = Abmelden: STOP { $keyword }. Hilfe: HILFE
reply-welcome = Willkommen bei { $channel }{ $frequency }. { $leave }
reply-own-welcome = { $text } { $leave }
reply-already = Du bist schon bei { $channel } angemeldet. Abmelden: STOP { $keyword }
reply-goodbye = Abgemeldet von { $channels }. Du bekommst keine Nachrichten mehr. Wieder anmelden: START
reply-not-subscribed = Du bist bei keinem Kanal angemeldet.
reply-no-channels = Hier gibt es noch keine Kanäle.
reply-choose-channel = Welcher Kanal? Sende { $list }
reply-help = { $sender }: START <Kanal> anmelden, STOP abmelden, DATEN zeigt gespeicherte Daten, LÖSCHEN löscht sie.
reply-help-subscribed = {" "}Angemeldet: { $list }
reply-my-data = Gespeichert seit { $since }: deine Nummer (verschlüsselt), Kanäle: { $channels }, Einwilligungen mit Zeitpunkt, { $inbox ->
    [one] 1 Nachricht
   *[other] { $inbox } Nachrichten
} an uns. Löschen: LÖSCHEN
reply-delete-confirm = Alle deine Daten hier löschen (Anmeldungen, Nachrichten, Nummer)? Das kann nicht rückgängig gemacht werden. Antworte JA innerhalb von { $hours } Stunden.
reply-erased = Deine Daten werden jetzt gelöscht. Das ist die letzte Nachricht von uns.
reply-received = Danke, deine Nachricht ist angekommen. Hilfe: HILFE
reply-help-keywords = {" "}Stichwörter: { $list }
reply-handoff = Danke für deine Nachricht! Wir melden uns bis morgen. Abmelden: STOP
reply-handoff-closed = Danke für deine Nachricht! Wir sind gerade nicht da und melden uns ab { $from } Uhr. Abmelden: STOP
team-notice = Neue Nachricht in Gespräch #{ $thread } ({ $channels })
team-notice-no-channel = Neue Nachricht in Gespräch #{ $thread } (ohne Kanal)
