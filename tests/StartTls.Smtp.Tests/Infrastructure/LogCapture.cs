using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// The one log capture of the tests: every event the server writes, as "Level category [id] text || values || exception"
/// (<see cref="Lines"/>, with every scope as "scope category: values") and as <see cref="LogEvent"/> records
/// (<see cref="Events"/>, for checks on the level or the exception itself). Pass it to the server as its logger factory.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ILoggerFactory
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>The events (not the scopes), in the order they were written.</summary>
    public IReadOnlyCollection<LogEvent> Events => _events;

    public string All => string.Join("\n", _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Add(string line) => _lines.Enqueue(line);

    private static string Describe(object? state)
    {
        var text = new StringBuilder().Append(state);
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var (key, value) in pairs)
            {
                text.Append(" | ").Append(key).Append('=').Append(value);
            }
        }

        return text.ToString();
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner.Add("scope " + category + ": " + Describe(state));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            owner._events.Enqueue(new LogEvent(logLevel, category, eventId, message, exception));
            owner.Add($"{logLevel} {category} [{eventId.Id}] {message} || {Describe(state)} || {exception}");
        }
    }
}

/// <summary>One event written to a <see cref="LogCapture"/>.</summary>
public sealed record LogEvent(LogLevel Level, string Category, EventId EventId, string Message, Exception? Exception);
