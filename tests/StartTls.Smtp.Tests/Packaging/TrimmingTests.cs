using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using StartTls.Smtp.Hosting;

namespace StartTls.Smtp.Tests.Packaging;

/// <summary>
/// The package is usable from trimmed and Native AOT applications (src/Directory.Build.props; .ci/aot-check.sh publishes
/// the sample server natively). These pin the two things a consumer's trimmer relies on.
/// </summary>
public sealed class TrimmingTests
{
    [Fact]
    public void The_assembly_declares_itself_trimmable()
    {
        typeof(SmtpServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Should().ContainSingle(static a => a.Key == "IsTrimmable")
            .Which.Value.Should().Be("True", "IsTrimmable makes the trimmer trim the package member by member");
    }

    [Theory]
    [InlineData(nameof(SmtpServerBuilderExtensions.UseMessageStore))]
    [InlineData(nameof(SmtpServerBuilderExtensions.UseMailboxFilter))]
    [InlineData(nameof(SmtpServerBuilderExtensions.UseSessionHandler))]
    public void The_types_the_container_creates_keep_their_public_constructors(string method)
    {
        // Every overload: with and without a lifetime.
        var overloads = typeof(SmtpServerBuilderExtensions).GetMethods()
            .Where(m => m.Name == method && m.IsGenericMethodDefinition).ToList();
        overloads.Should().HaveCount(2);
        foreach (var generic in overloads)
        {
            var annotation = generic.GetGenericArguments()[0].GetCustomAttribute<DynamicallyAccessedMembersAttribute>();
            annotation.Should().NotBeNull("the container calls the type's constructor, which the trimmer must keep");
            annotation!.MemberTypes.Should().HaveFlag(DynamicallyAccessedMemberTypes.PublicConstructors);
        }
    }
}
