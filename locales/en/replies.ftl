# What herold answers a person who writes to it (SMS, Matrix). Short: each SMS part costs.
# { $channel } is a channel's name, { $keyword } its keyword; { $frequency } is reply-frequency or nothing.

reply-frequency = {" "}(at most { $max } per { $period })
reply-confirm-request = { $channel }{ $frequency }: Reply YES to get messages. Without a reply nothing happens (valid { $hours } h).
reply-leave-hint = To leave: STOP { $keyword }. Help: HELP
reply-welcome = Welcome to { $channel }{ $frequency }. { $leave }
reply-own-welcome = { $text } { $leave }
reply-already = You are already subscribed to { $channel }. To leave: STOP { $keyword }
reply-goodbye = Unsubscribed from { $channels }. You will get no more messages. To join again: START
reply-not-subscribed = You are not subscribed to any channel.
reply-no-channels = There are no channels here yet.
reply-choose-channel = Which channel? Send { $list }
reply-help = { $sender }: START <channel> to join, STOP to leave, MYDATA shows stored data, DELETE erases it.
reply-help-subscribed = {" "}Subscribed: { $list }
reply-my-data = Stored since { $since }: your address (encrypted), channels: { $channels }, consents with times, { $inbox ->
    [one] 1 message
   *[other] { $inbox } messages
} to us. To erase: DELETE
reply-delete-confirm = Erase all your data here (subscriptions, messages, number)? This cannot be undone. Reply YES within { $hours } hours.
reply-erased = Your data is being erased now. This is the last message from us.
reply-received = Thanks, your message has arrived. Help: HELP
reply-help-keywords = {" "}Keywords: { $list }
reply-handoff = Thanks for your message! We will get back to you by tomorrow. To leave: STOP
reply-handoff-closed = Thanks for your message! We are not in right now and will get back to you from { $from }. To leave: STOP
team-notice = New message in conversation #{ $thread } ({ $channels })
team-notice-no-channel = New message in conversation #{ $thread } (no channel)
