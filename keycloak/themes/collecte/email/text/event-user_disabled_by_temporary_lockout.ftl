<#ftl output_format="plainText">
${msg("collecteCompteVerrouille", event.date, properties.collecteSupportEmail, properties.collectePortalUrl)}
