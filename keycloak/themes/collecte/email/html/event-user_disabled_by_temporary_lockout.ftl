<#import "template.ftl" as layout>
<@layout.emailLayout>
${kcSanitize(msg("collecteCompteVerrouilleHtml", event.date, properties.collecteSupportEmail, properties.collectePortalUrl))?no_esc}
</@layout.emailLayout>
