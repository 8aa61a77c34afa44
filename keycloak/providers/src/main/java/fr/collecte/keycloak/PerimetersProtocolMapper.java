package fr.collecte.keycloak;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.protocol.oidc.mappers.AbstractOIDCProtocolMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAttributeMapperHelper;
import org.keycloak.protocol.oidc.mappers.OIDCIDTokenMapper;
import org.keycloak.protocol.oidc.mappers.TokenIntrospectionTokenMapper;
import org.keycloak.protocol.oidc.mappers.UserInfoTokenMapper;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.representations.IDToken;

/**
 * The claims an application needs to know for which SIREN/lots the person may enter data,
 * computed by Keycloak with the authority rule ({@link Perimeters}) at each token issue, refresh
 * and userinfo call, so that every relying party sees the same truth as the portal:
 *
 * <ul>
 *   <li>{@value #PERIMETERS_CLAIM}: array sorted by SIREN then lot of
 *       {@code {"siren", "lot", "raisonSociale", "principal"}} — collection-contact perimeters
 *       only, never a technical or billing function; {@code []} when there is none;
 *   <li>{@value #TERMS_CLAIM}: the CGU version the person accepted last (user attribute
 *       {@code cguVersionAcceptee}, written by {@link VersionedTermsAndConditions}); absent when
 *       none was recorded.
 * </ul>
 *
 * <p>ID token, userinfo and token introspection only: not the access token, which every API
 * call carries (it stays small; an API reads the claims at userinfo or introspection). Used by
 * the client scope {@code perimetres-collecte} of {@code realm-export.json}, optional in the
 * realm: an application gets the claims by asking {@code scope=openid perimetres-collecte}.
 */
public class PerimetersProtocolMapper extends AbstractOIDCProtocolMapper
        implements OIDCIDTokenMapper, UserInfoTokenMapper, TokenIntrospectionTokenMapper {

    public static final String PROVIDER_ID = "collecte-perimetres";
    public static final String PERIMETERS_CLAIM = "perimetres";
    public static final String TERMS_CLAIM = "version_cgu";

    private static final List<ProviderConfigProperty> CONFIG = new ArrayList<>();

    static {
        OIDCAttributeMapperHelper.addIncludeInTokensConfig(CONFIG, PerimetersProtocolMapper.class);
    }

    @Override
    protected void setClaim(IDToken token, ProtocolMapperModel mapping, UserSessionModel userSession,
            KeycloakSession session, ClientSessionContext clientSessionContext) {
        UserModel user = userSession.getUser();
        List<Map<String, Object>> perimeters = Perimeters.of(user).stream()
                .map(Perimeters.Perimeter::toClaim)
                .toList();
        token.getOtherClaims().put(PERIMETERS_CLAIM, perimeters);
        String accepted = user.getFirstAttribute(VersionedTermsAndConditions.ACCEPTED_VERSION);
        if (accepted != null && !accepted.isEmpty()) {
            token.getOtherClaims().put(TERMS_CLAIM, accepted);
        } else {
            token.getOtherClaims().remove(TERMS_CLAIM);
        }
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayCategory() {
        return TOKEN_MAPPER_CATEGORY;
    }

    @Override
    public String getDisplayType() {
        return "Périmètres de collecte (SIREN/lots) et version des CGU";
    }

    @Override
    public String getHelpText() {
        return "Revendications perimetres (SIREN/lots où la personne est interlocuteur de collecte "
                + "selon la règle d'autorité) et version_cgu (version des CGU acceptée).";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }
}
