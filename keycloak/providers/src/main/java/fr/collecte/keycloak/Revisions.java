package fr.collecte.keycloak;

import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import java.util.List;
import java.util.UUID;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.jpa.entities.GroupEntity;
import org.keycloak.models.jpa.entities.UserEntity;

/**
 * The revision of a user or a group: the attribute {@code revision}, a random token that
 * {@link RevisionListener} replaces after every change made through the Admin API. Keycloak's
 * Admin API has no ETag nor conditional update: a writer that read a record sends back the
 * revision it read, and the write is refused if the record changed since ({@link
 * RevisionValidator} for users, {@link RevisionedGroupResource} for groups) — a read-modify-write
 * never overwrites a concurrent change.
 *
 * <p>The check must see the committed state and hold it until the write commits: the record's
 * row is locked ({@code SELECT … FOR UPDATE}, held to the end of the transaction), then the
 * stored revision is read from the database, not from Keycloak's caches. Two writers of one
 * record are so put one after the other; the second one sees the first one's revision.
 */
final class Revisions {

    static final String ATTRIBUTE = "revision";

    private Revisions() {
    }

    static String newToken() {
        return UUID.randomUUID().toString();
    }

    /** Locks the user's row and returns its committed revision (empty list if none). */
    static List<String> lockedUserRevision(KeycloakSession session, String userId) {
        EntityManager em = entityManager(session);
        if (em.find(UserEntity.class, userId, LockModeType.PESSIMISTIC_WRITE) == null) {
            return List.of();
        }
        return em.createQuery("select a.value from UserAttributeEntity a "
                + "where a.user.id = :id and a.name = :name", String.class)
                .setParameter("id", userId).setParameter("name", ATTRIBUTE).getResultList();
    }

    /** Locks the group's row and returns its committed attribute {@code name}'s values. */
    static List<String> lockedGroupAttribute(KeycloakSession session, String groupId, String name) {
        EntityManager em = entityManager(session);
        em.find(GroupEntity.class, groupId, LockModeType.PESSIMISTIC_WRITE);
        return committedGroupAttribute(session, groupId, name);
    }

    /** A group attribute as committed (call after {@link #lockedGroupAttribute}). */
    static List<String> committedGroupAttribute(KeycloakSession session, String groupId, String name) {
        return entityManager(session).createQuery("select a.value from GroupAttributeEntity a "
                + "where a.group.id = :id and a.name = :name", String.class)
                .setParameter("id", groupId).setParameter("name", name).getResultList();
    }

    /** Names of the group's committed attributes that start with {@code prefix}. */
    static List<String> committedGroupAttributeNames(KeycloakSession session, String groupId,
            String prefix) {
        return entityManager(session).createQuery("select distinct a.name from GroupAttributeEntity a "
                + "where a.group.id = :id and a.name like :prefix", String.class)
                .setParameter("id", groupId).setParameter("prefix", prefix + "%").getResultList();
    }

    /** Blank values are no value (the console sends an emptied field as ""). */
    static List<String> present(List<String> values) {
        return values == null ? List.of()
                : values.stream().filter(value -> value != null && !value.isBlank()).toList();
    }

    private static EntityManager entityManager(KeycloakSession session) {
        return session.getProvider(JpaConnectionProvider.class).getEntityManager();
    }
}
