<#--
  Page des CGU : keycloak.v2/login/terms.ftl (Keycloak 26.7.3) avec la version des CGU.
  Ajouts, seuls écarts avec le gabarit du parent :
  - la version en vigueur (#collecte-cgu-version) et, pour qui avait accepté une version
    antérieure, l'annonce de la mise à jour (#collecte-cgu-mise-a-jour) ;
  - le champ caché cguVersion : l'extension VersionedTermsAndConditions n'enregistre
    l'acceptation que de la version affichée.
  cguVersion et cguMiseAJour sont posés par cette extension ; sans version configurée
  dans le realm, la page est celle du parent.
-->
<#import "template.ftl" as layout>
<#import "buttons.ftl" as buttons>

<@layout.registrationLayout displayMessage=false; section>
<!-- template: terms.ftl (collecte) -->

    <#if section = "header">
        ${msg("termsTitle")}
    <#elseif section = "form">
    <#if (cguVersion!"")?has_content>
    <p id="collecte-cgu-version" class="collecte-cgu-version">${msg("collecteCguVersion", cguVersion)}</p>
    <#if cguMiseAJour!false>
    <p id="collecte-cgu-mise-a-jour" class="collecte-cgu-mise-a-jour">${msg("collecteCguMiseAJour")}</p>
    </#if>
    </#if>
    <div class="${properties.kcContentWrapperClass}">
        ${kcSanitize(msg("termsText"))?no_esc}
    </div>
    <form class="${properties.kcFormClass!}" action="${url.loginAction}" method="POST">
        <#if (cguVersion!"")?has_content>
        <input type="hidden" name="cguVersion" value="${cguVersion}"/>
        </#if>
        <@buttons.actionGroup horizontal=true>
            <@buttons.button name="accept" id="kc-accept" label="doAccept"/>
            <@buttons.button name="cancel" id="kc-decline" label="doDecline" type="secondary"/>
        </@buttons.actionGroup>
    </form>
    <div class="clearfix"></div>
    </#if>
</@layout.registrationLayout>
