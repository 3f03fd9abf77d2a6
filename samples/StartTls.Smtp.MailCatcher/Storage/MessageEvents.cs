using System.Threading.Channels;

namespace StartTls.Smtp.MailCatcher.Storage;

/// <summary>What changed in the store, for the page's live list.</summary>
/// <param name="Kind"><c>stored</c>, <c>deleted</c> or <c>cleared</c>.</param>
/// <param name="Id">The message id; 0 for <c>cleared</c>.</param>
internal sealed record MessageEvent(string Kind, long Id);

/// <summary>
/// Fans store changes out to every open event stream. Each subscriber has a small bounded queue that drops its oldest
/// entry when full: an event only tells the page to refresh its list, so a slow page loses nothing that matters.
/// </summary>
internal sealed class MessageEvents
{
    private readonly Lock _lock = new();
    private readonly List<Channel<MessageEvent>> _subscribers = [];

    /// <summary>Publishes <paramref name="change"/> to every subscriber.</summary>
    /// <param name="change">The change.</param>
    public void Publish(MessageEvent change)
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(change);
            }
        }
    }

    /// <summary>Starts receiving every change published from now on, until the subscription is disposed.</summary>
    /// <returns>The subscription.</returns>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<MessageEvent>(new BoundedChannelOptions(64)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        return new Subscription(this, channel);
    }

    private void Unsubscribe(Channel<MessageEvent> channel)
    {
        lock (_lock)
        {
            _subscribers.Remove(channel);
        }
    }

    /// <summary>One listener's queue of changes; dispose it to stop listening.</summary>
    internal sealed class Subscription : IDisposable
    {
        private readonly MessageEvents _owner;
        private readonly Channel<MessageEvent> _channel;

        internal Subscription(MessageEvents owner, Channel<MessageEvent> channel)
        {
            _owner = owner;
            _channel = channel;
        }

        /// <summary>The changes, in order.</summary>
        public ChannelReader<MessageEvent> Reader => _channel.Reader;

        /// <inheritdoc />
        public void Dispose() => _owner.Unsubscribe(_channel);
    }
}
