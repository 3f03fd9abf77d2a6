using System.Formats.Asn1;
using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Authentication.ExtendedProtection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Tls;

/// <summary>TLS channel bindings (RFC 5929, RFC 9266) for SCRAM-SHA-256-PLUS.</summary>
internal static class ChannelBinding
{
    /// <summary>The channel binding type name of <see cref="TlsServerEndPoint"/>.</summary>
    public const string TlsServerEndPointType = "tls-server-end-point";

    /// <summary>The channel binding type name of <see cref="TlsUnique"/>.</summary>
    public const string TlsUniqueType = "tls-unique";

    /// <summary>
    /// RFC 9266's binding for TLS 1.3. It needs the TLS keying material exporter (RFC 5705), which .NET has no public
    /// API for, so the server can never verify it.
    /// </summary>
    public const string TlsExporterType = "tls-exporter";

    /// <summary>The size of the SEC_CHANNEL_BINDINGS header that .NET puts before the binding data: eight 32-bit fields.</summary>
    private const int SecChannelBindingsSize = 32;

    private const string RsaPss = "1.2.840.113549.1.1.10";

    /// <summary>
    /// <c>tls-server-end-point</c> (RFC 5929 §4.1): the hash of the server certificate's DER encoding, computed with the
    /// hash function of the certificate's signature algorithm, except that MD5 and SHA-1 are replaced by SHA-256.
    /// For RSASSA-PSS the hash comes from the algorithm parameters (SHA-1, the default, becomes SHA-256).
    /// </summary>
    /// <param name="serverCertificate">The certificate the server presented in the TLS handshake.</param>
    /// <returns>
    /// The binding data, or <see langword="null"/> when the signature algorithm uses no single hash function (Ed25519,
    /// Ed448) or one this platform cannot compute: the binding is undefined then (RFC 5929 §4.1).
    /// </returns>
    public static byte[]? TlsServerEndPoint(X509Certificate2 serverCertificate)
    {
        ArgumentNullException.ThrowIfNull(serverCertificate);
        var hash = SignatureHash(serverCertificate);
        if (hash is not { } name || !IsSupported(name))
        {
            return null;
        }

        return CryptographicOperations.HashData(name, serverCertificate.RawDataMemory.Span);
    }

    /// <summary>
    /// <c>tls-unique</c> (RFC 5929 §3.1): the first Finished message of the TLS handshake, from
    /// <see cref="System.Net.TransportContext.GetChannelBinding(ChannelBindingKind)"/>. Only for TLS 1.2: RFC 9266 §3 leaves tls-unique undefined for
    /// TLS 1.3 (what the platform returns there is not it, and clients send tls-exporter instead). Renegotiation is off
    /// (<see cref="TlsHandshake"/>), so the first handshake is the only one.
    /// </summary>
    /// <param name="stream">The authenticated server stream, or <see langword="null"/> outside TLS.</param>
    /// <returns>The Finished message's verify_data, or <see langword="null"/> when not TLS 1.2 or the platform does not provide it.</returns>
    public static byte[]? TlsUnique(SslStream? stream)
    {
        if (stream is null || !stream.IsAuthenticated || stream.SslProtocol != SslProtocols.Tls12)
        {
            return null;
        }

        using var binding = stream.TransportContext?.GetChannelBinding(ChannelBindingKind.Unique);
        if (binding is null || binding.IsInvalid || binding.Size <= 0)
        {
            return null;
        }

        var raw = new byte[binding.Size];
        Marshal.Copy(binding.DangerousGetHandle(), raw, 0, raw.Length);
        return ApplicationData(raw, "tls-unique:"u8);
    }

    /// <summary>
    /// The binding data inside what <see cref="System.Security.Authentication.ExtendedProtection.ChannelBinding"/> holds: a
    /// SEC_CHANNEL_BINDINGS header (on every platform; on Linux .NET builds the same layout) whose last two fields give the
    /// length and offset of the application data, which starts with the type name and a colon (<c>tls-unique:</c>).
    /// </summary>
    /// <param name="raw">The whole block, header included.</param>
    /// <param name="prefix">The type prefix to remove when present.</param>
    /// <returns>The binding data, or <see langword="null"/> when the block is not laid out as expected or holds no data.</returns>
    internal static byte[]? ApplicationData(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> prefix)
    {
        if (raw.Length < SecChannelBindingsSize)
        {
            return null;
        }

        var length = MemoryMarshal.Read<uint>(raw[24..]); // cbApplicationDataLength
        var offset = MemoryMarshal.Read<uint>(raw[28..]); // dwApplicationDataOffset
        if (offset < SecChannelBindingsSize || (ulong)offset + length > (ulong)raw.Length)
        {
            return null;
        }

        var data = raw.Slice((int)offset, (int)length);
        if (data.StartsWith(prefix))
        {
            data = data[prefix.Length..];
        }

        return data.IsEmpty ? null : data.ToArray();
    }

    /// <summary>The hash to use for <paramref name="certificate"/>'s binding, or <see langword="null"/> when undefined.</summary>
    internal static HashAlgorithmName? SignatureHash(X509Certificate2 certificate) => certificate.SignatureAlgorithm.Value switch
    {
        // MD5 and SHA-1 based signatures: SHA-256 (RFC 5929 §4.1).
        "1.2.840.113549.1.1.4" // md5WithRSAEncryption
            or "1.2.840.113549.1.1.5" // sha1WithRSAEncryption
            or "1.3.14.3.2.29" // sha1WithRSASignature (OIW)
            or "1.2.840.10045.4.1" // ecdsa-with-SHA1
            or "1.2.840.10040.4.3" // dsa-with-sha1
            => HashAlgorithmName.SHA256,
        "1.2.840.113549.1.1.11" // sha256WithRSAEncryption
            or "1.2.840.10045.4.3.2" // ecdsa-with-SHA256
            or "2.16.840.1.101.3.4.3.2" // dsa-with-sha256
            => HashAlgorithmName.SHA256,
        "1.2.840.113549.1.1.12" // sha384WithRSAEncryption
            or "1.2.840.10045.4.3.3" // ecdsa-with-SHA384
            => HashAlgorithmName.SHA384,
        "1.2.840.113549.1.1.13" // sha512WithRSAEncryption
            or "1.2.840.10045.4.3.4" // ecdsa-with-SHA512
            => HashAlgorithmName.SHA512,
        "2.16.840.1.101.3.4.3.14" // id-rsassa-pkcs1-v1_5-with-sha3-256
            or "2.16.840.1.101.3.4.3.10" // id-ecdsa-with-sha3-256
            => HashAlgorithmName.SHA3_256,
        "2.16.840.1.101.3.4.3.15" or "2.16.840.1.101.3.4.3.11" => HashAlgorithmName.SHA3_384,
        "2.16.840.1.101.3.4.3.16" or "2.16.840.1.101.3.4.3.12" => HashAlgorithmName.SHA3_512,
        RsaPss => PssHash(certificate.RawDataMemory),

        // Ed25519, Ed448, ML-DSA, SHA-224 based and unknown algorithms: undefined.
        _ => null,
    };

    /// <summary>Reads RSASSA-PSS-params.hashAlgorithm from the certificate's outer signatureAlgorithm (RFC 4055 §3.1).</summary>
    private static HashAlgorithmName? PssHash(ReadOnlyMemory<byte> der)
    {
        try
        {
            var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            certificate.ReadEncodedValue(); // tbsCertificate
            var algorithm = certificate.ReadSequence();
            algorithm.ReadObjectIdentifier();
            if (!algorithm.HasData || algorithm.PeekTag().HasSameClassAndValue(Asn1Tag.Null))
            {
                return HashAlgorithmName.SHA256; // absent parameters: every field at its default, SHA-1
            }

            var parameters = algorithm.ReadSequence();
            var hashTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (!parameters.HasData || !parameters.PeekTag().HasSameClassAndValue(hashTag))
            {
                return HashAlgorithmName.SHA256; // hashAlgorithm DEFAULT sha1
            }

            var hashAlgorithm = parameters.ReadSequence(hashTag).ReadSequence();
            return HashFromOid(hashAlgorithm.ReadObjectIdentifier());
        }
        catch (AsnContentException)
        {
            // The TLS stack accepted the certificate; a parameter block we cannot read gets the default.
            return HashAlgorithmName.SHA256;
        }
    }

    private static HashAlgorithmName? HashFromOid(string oid) => oid switch
    {
        "1.3.14.3.2.26" or "1.2.840.113549.2.5" => HashAlgorithmName.SHA256, // SHA-1, MD5
        "2.16.840.1.101.3.4.2.1" => HashAlgorithmName.SHA256,
        "2.16.840.1.101.3.4.2.2" => HashAlgorithmName.SHA384,
        "2.16.840.1.101.3.4.2.3" => HashAlgorithmName.SHA512,
        "2.16.840.1.101.3.4.2.8" => HashAlgorithmName.SHA3_256,
        "2.16.840.1.101.3.4.2.9" => HashAlgorithmName.SHA3_384,
        "2.16.840.1.101.3.4.2.10" => HashAlgorithmName.SHA3_512,
        _ => null,
    };

    private static bool IsSupported(HashAlgorithmName name)
    {
        if (name == HashAlgorithmName.SHA3_256)
        {
            return SHA3_256.IsSupported;
        }

        if (name == HashAlgorithmName.SHA3_384)
        {
            return SHA3_384.IsSupported;
        }

        return name != HashAlgorithmName.SHA3_512 || SHA3_512.IsSupported;
    }
}
