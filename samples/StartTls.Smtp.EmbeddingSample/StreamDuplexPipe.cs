using System.IO.Pipelines;

namespace StartTls.Smtp.EmbeddingSample;

/// <summary>A stream seen as the pair of pipes <see cref="SmtpConnectionContext"/> takes.</summary>
internal sealed class StreamDuplexPipe(Stream stream) : IDuplexPipe
{
    public PipeReader Input { get; } = PipeReader.Create(stream);

    public PipeWriter Output { get; } = PipeWriter.Create(stream);
}
