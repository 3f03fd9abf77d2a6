using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>Collects "Level message" lines from every logger (with the exception's type, when there is one).</summary>
public sealed class LogLines : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _lines.Enqueue(logLevel + " " + formatter(state, exception) + (exception is null ? string.Empty : " " + exception.GetType().FullName));

    public void Dispose()
    {
    }
}
