<#ftl output_format="plainText">
<#-- Avis de sécurité (écouteur d'événements « email » de Keycloak) : le mot de passe ou le
     second facteur, selon le type d'identifiant de l'événement. -->
<#assign type = event.getDetail("credential_type")!"">
<#assign quoi = (type == "password")?then("MotDePasse", "SecondFacteur")>
${msg("collecte" + quoi + "Modifie", event.date, event.ipAddress!"?", properties.collecteSupportEmail, properties.collectePortalUrl)}
