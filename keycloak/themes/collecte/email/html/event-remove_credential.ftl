<#import "template.ftl" as layout>
<#assign type = event.getDetail("credential_type")!"">
<#assign quoi = (type == "password")?then("MotDePasse", "SecondFacteur")>
<@layout.emailLayout>
${kcSanitize(msg("collecte" + quoi + "RetireHtml", event.date, event.ipAddress!"?", properties.collecteSupportEmail, properties.collectePortalUrl))?no_esc}
</@layout.emailLayout>
