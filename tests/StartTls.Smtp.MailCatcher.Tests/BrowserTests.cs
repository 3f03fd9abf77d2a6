using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using StartTls.Smtp.MailCatcher.Tests.Infrastructure;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.MailCatcher.Tests;

/// <summary>
/// The page in a real browser (Debian's chromium, headless, driven through chromedriver): the list updates live,
/// a message opens, and nothing in a mail's HTML runs. Missing chromium or chromedriver skips the test, or fails it in CI.
/// </summary>
public sealed class BrowserTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    // Every way the mail tries to run script writes a marker; none may change. The visible text proves the HTML rendered.
    private const string HostileHtml = """
        <html><head><title>mail title</title></head><body>
        <p id="rendered">The HTML part rendered.</p>
        <p id="script-marker">untouched</p>
        <p id="onerror-marker">untouched</p>
        <script>document.getElementById('script-marker').textContent = 'script ran'; document.title = 'pwned'; try { parent.document.title = 'pwned'; } catch (e) {}</script>
        <img src="x" onerror="document.getElementById('onerror-marker').textContent = 'onerror ran'; document.title = 'pwned'; try { parent.document.title = 'pwned'; } catch (e) {}">
        </body></html>
        """;

    [SkippableFact]
    public async Task The_list_updates_live_a_message_opens_and_no_script_in_a_mail_runs()
    {
        var chromium = MissingTool.Require("chromium");
        var chromedriver = MissingTool.Require("chromedriver");
        await using var catcher = await CatcherInstance.StartAsync();
        using var browser = StartBrowser(chromium, chromedriver, out var profile);
        try
        {
            var wait = new WebDriverWait(browser, WaitLimit);
            wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException)); // The list is re-rendered as events arrive.
            browser.Navigate().GoToUrl(catcher.WebAddress);
            wait.Until(d => d.FindElement(By.TagName("body")).GetAttribute("data-live") == "connected");
            browser.ExecuteScript("window.noReloadMarker = 'still the same page';");

            // A text message appears without a reload and opens.
            await catcher.SendAsync(TestMessages.Text("Live in the browser", body: "The text part, read by the browser."));
            Open(wait, "Live in the browser");
            browser.ExecuteScript("return window.noReloadMarker;").Should().Be("still the same page", "the message must arrive without a reload");
            wait.Until(d => d.FindElement(By.Id("d-text")).Text.Contains("The text part, read by the browser.", StringComparison.Ordinal)).Should().BeTrue();
            browser.FindElement(By.Id("d-subject")).Text.Should().Be("Live in the browser");

            // An HTML message with a script and an onerror handler: shown, but nothing runs.
            await catcher.SendAsync(TestMessages.Rich("Hostile HTML", "plain alternative", HostileHtml));
            Open(wait, "Hostile HTML");
            var frame = wait.Until(d => d.FindElement(By.Id("d-html")) is { Displayed: true } f && (f.GetAttribute("src") ?? string.Empty).EndsWith("/html", StringComparison.Ordinal) ? f : null);
            frame.GetAttribute("sandbox").Should().BeEmpty();
            browser.SwitchTo().Frame(frame);
            AssertNothingRan(browser, wait);
            browser.SwitchTo().DefaultContent();
            browser.Title.Should().Be("Mail catcher");
            browser.ExecuteScript("return window.noReloadMarker;").Should().Be("still the same page");

            // Opened on its own, outside the iframe, the HTML part is still sandboxed by its Content-Security-Policy.
            var id = (await catcher.ListAsync("Hostile HTML")).Single().Id;
            browser.Navigate().GoToUrl(new Uri(catcher.WebAddress, $"api/messages/{id}/html"));
            AssertNothingRan(browser, wait);
        }
        finally
        {
            browser.Quit();
            Directory.Delete(profile, recursive: true);
        }
    }

    // Waits until the list shows a message with this subject, then clicks it (in one step, so a re-render cannot intervene).
    private static void Open(WebDriverWait wait, string subject) => wait.Until(d =>
    {
        var item = d.FindElements(By.CssSelector("#messages li")).FirstOrDefault(li => li.Text.Contains(subject, StringComparison.Ordinal));
        item?.FindElement(By.TagName("button")).Click();
        return item is not null;
    });

    private static void AssertNothingRan(ChromeDriver browser, WebDriverWait wait)
    {
        // The mail's document, not the frame's initial about:blank; "complete" comes after the load event, which waits
        // for the image to fail, so its onerror handler has had its chance.
        wait.Until(d => d.FindElements(By.Id("rendered")).Count == 1
            && ((IJavaScriptExecutor)d).ExecuteScript("return document.readyState;") as string == "complete");
        browser.FindElement(By.Id("rendered")).Text.Should().Be("The HTML part rendered.");
        browser.FindElement(By.Id("script-marker")).Text.Should().Be("untouched", "the mail's <script> must not run");
        browser.FindElement(By.Id("onerror-marker")).Text.Should().Be("untouched", "the mail's onerror handler must not run");
        browser.ExecuteScript("return document.title;").Should().Be("mail title");
    }

    private static ChromeDriver StartBrowser(string chromium, string chromedriver, out string profile)
    {
        // Selenium Manager must never fetch a browser or a driver: both are Debian's, given by path.
        Environment.SetEnvironmentVariable("SE_OFFLINE", "true");
        profile = Directory.CreateTempSubdirectory("mailcatcher-chromium-").FullName;
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(chromedriver)!, Path.GetFileName(chromedriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking");
        try
        {
            return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        }
        catch
        {
            service.Dispose();
            Directory.Delete(profile, recursive: true);
            throw;
        }
    }
}
