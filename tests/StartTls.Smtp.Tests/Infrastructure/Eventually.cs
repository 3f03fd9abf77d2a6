namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// The one polling helper, for conditions that raise no event (a file appearing, a counter the server updates after
/// the client is done, a port starting to accept). Prefer an event (a TaskCompletionSource in a test double) wherever
/// there is one. The timeout only bounds a failing test, so it is generous; nothing here measures elapsed time.
/// </summary>
public static class Eventually
{
    /// <summary>How long a condition may take before the test fails: long enough for a loaded CI machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes; returns the last result.</summary>
    public static Task<bool> HoldsAsync(Func<bool> condition, TimeSpan? timeout = null)
        => HoldsAsync(() => Task.FromResult(condition()), timeout);

    /// <summary>Polls the asynchronous <paramref name="condition"/> until it holds or the timeout passes; returns the last result.</summary>
    /// <param name="condition">What to check; it may be costly (a new connection), hence <paramref name="interval"/>.</param>
    /// <param name="timeout">How long before giving up; <see cref="DefaultTimeout"/> when null.</param>
    /// <param name="interval">The pause between checks; 20 ms when null.</param>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (!deadline.IsCancellationRequested)
        {
            if (await condition())
            {
                return true;
            }

            try
            {
                await Task.Delay(interval ?? DefaultInterval, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return await condition();
    }

    /// <summary>Waits until <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> when it does not.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        if (!await HoldsAsync(condition, timeout))
        {
            throw new TimeoutException("Timed out waiting until " + what);
        }
    }
}
