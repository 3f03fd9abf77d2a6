using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Tls;

/// <summary>TLS channel bindings (RFC 5929) for SCRAM-SHA-256-PLUS.</summary>
internal static class ChannelBinding
{
    /// <summary>The channel binding type name of <see cref="TlsServerEndPoint"/>.</summary>
    public const string TlsServerEndPointType = "tls-server-end-point";

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
