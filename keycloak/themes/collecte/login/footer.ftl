<#--
  Pied de carte du thème « collecte » : remplace le point d'extension vide
  keycloak.v2/login/footer.ftl (macro « content »), appelé par template.ftl
  sur toutes les pages de connexion, y compris les pages d'erreur.

  Les trois encarts reprennent la FAQ de la plateforme. Leurs identifiants
  (collecte-identifiant-info, collecte-conseil-securite, collecte-conditions-acces)
  servent aux tests : ne pas les renommer.
  Les titres sont des h2 : le titre de la page (h1) est rendu par template.ftl.
-->
<#macro content>
<div id="collecte-aide" class="collecte-aide">
    <section id="collecte-identifiant-info" class="collecte-encart collecte-encart--info"
             aria-labelledby="collecte-identifiant-info-titre">
        <h2 id="collecte-identifiant-info-titre" class="collecte-encart__titre">${msg("collecteIdentifiantTitre")}</h2>
        <p>${msg("collecteIdentifiantInfo")}</p>
    </section>

    <section id="collecte-conseil-securite" class="collecte-encart collecte-encart--securite"
             aria-labelledby="collecte-conseil-securite-titre">
        <h2 id="collecte-conseil-securite-titre" class="collecte-encart__titre">${msg("collecteConseilSecuriteTitre")}</h2>
        <p>${msg("collecteConseilSecurite")}</p>
    </section>

    <section id="collecte-conditions-acces" class="collecte-encart collecte-encart--conditions"
             aria-labelledby="collecte-conditions-acces-titre">
        <h2 id="collecte-conditions-acces-titre" class="collecte-encart__titre">${msg("collecteConditionsAccesTitre")}</h2>
        ${kcSanitize(msg("collecteConditionsAcces"))?no_esc}
        <#-- The portal's self-help and the support's address: theme.properties, from the
             platform's environment (COLLECTE_PORTAL_URL, COLLECTE_SUPPORT_EMAIL), set once. -->
        <p id="collecte-diagnostic">${msg("collecteDiagnostic")}
            <a href="${properties.collectePortalUrl}/aide/connexion#je-ne-parviens-pas">${msg("collecteDiagnosticLien")}</a></p>
        <p id="collecte-support">${msg("collecteSupport")}
            <a href="mailto:${properties.collecteSupportEmail}">${properties.collecteSupportEmail}</a></p>
    </section>
</div>
</#macro>
