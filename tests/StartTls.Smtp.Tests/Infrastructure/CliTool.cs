using System.Diagnostics;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>The outcome of running an external program.</summary>
public sealed record CliResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string All => StandardOutput + "\n" + StandardError;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

/// <summary>
/// The one process runner of the tests: command-line clients (swaks, python3, openssl) run to completion with a hard
/// timeout, or started as a <see cref="CliProcess"/> to talk to. A missing tool follows <see cref="MissingTool"/>.
/// </summary>
public static class CliTool
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The full path of <paramref name="name"/> on PATH, or null.</summary>
    public static string? Find(string name) => MissingTool.Find(name);

    /// <summary>The full path of <paramref name="name"/>; a missing tool skips the test, or fails it in CI.</summary>
    public static string Require(string name) => MissingTool.Require(name);

    /// <summary>Runs <paramref name="name"/> with <paramref name="arguments"/>, writes <paramref name="standardInput"/> then closes stdin, and collects its output; kills it after <paramref name="timeout"/>.</summary>
    public static async Task<CliResult> RunAsync(string name, IEnumerable<string> arguments, string? standardInput = null, TimeSpan? timeout = null)
    {
        using var process = Start(name, arguments);
        if (standardInput is not null)
        {
            await process.WriteAsync(standardInput);
        }

        process.CloseInput();
        if (!await process.WaitForExitAsync(timeout ?? DefaultTimeout))
        {
            throw new TimeoutException($"{name} did not finish in time; output so far:\n{process.Output}");
        }

        return new CliResult(process.ExitCode, process.StandardOutput, process.StandardError);
    }

    /// <summary>
    /// Starts <paramref name="name"/> (a tool on PATH, or a full path) with stdin, stdout and stderr redirected;
    /// <paramref name="configure"/> may set the working directory or the environment.
    /// </summary>
    public static CliProcess Start(string name, IEnumerable<string> arguments, Action<ProcessStartInfo>? configure = null)
    {
        var start = new ProcessStartInfo(Path.IsPathRooted(name) ? name : Require(name))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        configure?.Invoke(start);
        return new CliProcess(start);
    }
}

/// <summary>
/// A running external program: stdout and stderr are collected as they arrive, so a test can wait for a line
/// (woken by each new line, not by polling), then type the next input. Killed on dispose if still running.
/// </summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _standardOutput = new();
    private readonly StringBuilder _standardError = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;

    internal CliProcess(ProcessStartInfo start)
    {
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data, _standardOutput);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, _standardError);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Stdout and stderr interleaved, line by line, as they arrived.</summary>
    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    public string StandardOutput
    {
        get
        {
            lock (_lock)
            {
                return _standardOutput.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_lock)
            {
                return _standardError.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public int Id => _process.Id;

    /// <summary>Waits until <paramref name="text"/> appears in the output; false if the program closed its output, or <paramref name="timeout"/> passed, first.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    return true;
                }

                if (_openStreams == 0)
                {
                    return false;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                return Output.Contains(text, StringComparison.Ordinal);
            }
        }
    }

    public async Task WriteAsync(string text)
    {
        try
        {
            await _process.StandardInput.WriteAsync(text);
            await _process.StandardInput.FlushAsync();
        }
        catch (IOException)
        {
            // The program already exited.
        }
    }

    /// <summary>Closes stdin: the program sees the end of its input.</summary>
    public void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program already exited.
        }
    }

    /// <summary>Waits for the program to exit and its output to end; on timeout it is killed and false returned.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            Kill();
            return false;
        }
    }

    /// <summary>Kills the program and its children if it is still running.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Append(string? line, StringBuilder stream)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (line is null)
            {
                _openStreams--;
            }
            else
            {
                _output.Append(line).Append('\n');
                stream.Append(line).Append('\n');
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
