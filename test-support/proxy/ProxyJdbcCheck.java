// What DBeaver and DataGrip do underneath: the PostgreSQL JDBC driver, a URL, a user and a saved password.
// Run by cli/proxy.test.ts with `java -cp /usr/share/java/postgresql.jar ProxyJdbcCheck.java URL USER`
// (single-file source launch); the password comes from the PROXY_PASSWORD environment variable.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Properties;

public class ProxyJdbcCheck {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", System.getenv("PROXY_PASSWORD"));
    try (Connection c = DriverManager.getConnection(args[0], props);
        ResultSet r = c.createStatement().executeQuery(
            "select current_user || '|' || current_database() || '|' || ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
      r.next();
      System.out.println(r.getString(1));
    }
  }
}
