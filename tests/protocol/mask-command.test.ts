import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK, maskCommand } from '../../protocol/mask-command.ts';

/** [typed, stored]: what an operator typed, and what the audit log, the server log and recordings keep. */
const MASKED: [string, string][] = [
  // JumpCloud's list: -p, -k, -cp, --key, --api-key, --password, --certpassword, and the Chocolatey pair.
  ['mysql -u root -p hunter2 shop', 'mysql -u root -p *** shop'],
  ['mysql -u root -phunter2 shop', 'mysql -u root -p*** shop'],
  ['sshpass -p hunter2 ssh bob@host', 'sshpass -p *** ssh bob@host'],
  ['7z x -pHunter!2 archive.7z', '7z x -p*** archive.7z'],
  ['openssl enc -aes256 -k hunter2 -in f', 'openssl enc -aes256 -k *** -in f'],
  ['jcagent -cp hunter2', 'jcagent -cp ***'],
  ['curl --key client.pem https://host', 'curl --key *** https://host'],
  ['tool --api-key abc123 list', 'tool --api-key *** list'],
  ['tool --password hunter2', 'tool --password ***'],
  ['tool --password=hunter2 --user bob', 'tool --password=*** --user bob'],
  ["tool --password 'hunter 2' next", 'tool --password *** next'],
  ['signtool sign --certpassword hunter2 app.exe', 'signtool sign --certpassword *** app.exe'],
  [
    'choco install x --install-arguments-sensitive="/p:abc"',
    'choco install x --install-arguments-sensitive=***',
  ],
  [
    'choco install x --package-parameters-sensitive "/Password:abc"',
    'choco install x --package-parameters-sensitive ***',
  ],
  // Better than JumpCloud: any option whose name ends in a secret's name, in any style.
  ['gh auth login --with-token --token ghp_abc', 'gh auth login --with-token --token ***'],
  ['vault login --secret=s3cr3t', 'vault login --secret=***'],
  ['az login --client-secret hunter2', 'az login --client-secret ***'],
  ['Publish-Module -Name x -NuGetApiKey abc', 'Publish-Module -Name x -NuGetApiKey ***'],
  ['New-LocalUser bob -Password $pw', 'New-LocalUser bob -Password ***'],
  [
    'keytool -importkeystore -srcstorepass abc -deststorepass def',
    'keytool -importkeystore -srcstorepass *** -deststorepass ***',
  ],
  ['openssl pkcs12 -passin pass:abc -in f', 'openssl pkcs12 -passin *** -in f'],
  ['plink -pw hunter2 bob@host', 'plink -pw *** bob@host'],
  ['cmdkey /add:srv /user:bob /pass:hunter2', 'cmdkey /add:srv /user:bob /pass:***'],
  ['schtasks /create /tn job /ru bob /rp hunter2', 'schtasks /create /tn job /ru bob /rp ***'],
  ['zip -P hunter2 out.zip f', 'zip -P *** out.zip f'],
  ['redis-cli -a hunter2 -p 6379', 'redis-cli -a *** -p 6379'],
  ['docker login -u bob -p hunter2', 'docker login -u bob -p ***'],
  // user:password, in URLs and after -u.
  ['curl -u bob:hunter2 https://host', 'curl -u bob:*** https://host'],
  ['curl -ubob:hunter2 https://host', 'curl -ubob:*** https://host'],
  ['curl --user=bob:hunter2 https://host', 'curl --user=bob:*** https://host'],
  ['smbclient //srv/x -U bob%hunter2', 'smbclient //srv/x -U bob%***'],
  ['git clone https://bob:ghp_abc@github.com/x/y.git', 'git clone https://bob:***@github.com/x/y.git'],
  ['psql postgres://app:hunter2@db:5432/shop', 'psql postgres://app:***@db:5432/shop'],
  [
    'git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x/y.git',
    'git clone https://***@github.com/x/y.git',
  ],
  ['curl "https://api/x?a=1&access_token=abc&b=2"', 'curl "https://api/x?a=1&access_token=***&b=2"'],
  ['curl -H "Authorization: Bearer abc.def" https://host', 'curl -H "Authorization: ***" https://host'],
  [
    'curl -d \'{"user":"bob","password":"hunter2"}\' https://host',
    'curl -d \'{"user":"bob","password":"***"}\' https://host',
  ],
  // Assignments to variables named like a secret: PASS, PWD, TOKEN, SECRET, KEY anywhere in the name.
  ['MYSQL_PWD=hunter2 mysql -u root', 'MYSQL_PWD=*** mysql -u root'],
  ['PGPASSWORD=hunter2 psql -h db', 'PGPASSWORD=*** psql -h db'],
  ['export API_KEY=abc123', 'export API_KEY=***'],
  ['export AWS_SECRET_ACCESS_KEY="abc 123"; aws s3 ls', 'export AWS_SECRET_ACCESS_KEY=***; aws s3 ls'],
  ['GITHUB_TOKEN=ghp_abc gh pr list', 'GITHUB_TOKEN=*** gh pr list'],
  [
    'docker run -e DB_PASSWORD=abc --env=API_TOKEN=def img',
    'docker run -e DB_PASSWORD=*** --env=API_TOKEN=*** img',
  ],
  [
    'helm install x --set auth.rootPassword=abc --set image.tag=1',
    'helm install x --set auth.rootPassword=*** --set image.tag=1',
  ],
  ['setx API_KEY abc123', 'setx API_KEY ***'],
  ['$env:API_KEY = "abc123"', '$env:API_KEY = ***'],
  ['$password="hunter2"', '$password=***'],
  // Commands whose secrets are positional, piped, or nested in another command.
  ['net user bob Hunter2! /add', 'net user bob *** /add'],
  ['net use \\\\srv\\share Hunter2 /user:bob', 'net use \\\\srv\\share *** /user:bob'],
  ['ConvertTo-SecureString "P@ss" -AsPlainText -Force', 'ConvertTo-SecureString *** -AsPlainText -Force'],
  ['echo hunter2 | sudo -S apt update', 'echo *** | sudo -S apt update'],
  ['echo $TOKEN | docker login --password-stdin -u bob', 'echo *** | docker login --password-stdin -u bob'],
  ["sh -c 'mysql -u root -phunter2 shop'", "sh -c 'mysql -u root -p*** shop'"],
  ['cmd /c "net user bob Hunter2 /add"', 'cmd /c "net user bob *** /add"'],
  ['ssh -p 2222 host tool -p hunter2', 'ssh -p 2222 host tool -p ***'],
  ['sudo -u root mysql -p hunter2', 'sudo -u root mysql -p ***'],
  ['mkdir -p /srv/app && mysql -p hunter2', 'mkdir -p /srv/app && mysql -p ***'],
  ['mysql -u root -p', 'mysql -u root -p'],
  ['/usr/bin/mysql -u root -phunter2', '/usr/bin/mysql -u root -p***'],
  ['sqlcmd -S srv -U sa -P hunter2 -Q "select 1"', 'sqlcmd -S srv -U sa -P *** -Q "select 1"'],
  ['htpasswd -bc .htpasswd bob hunter2', 'htpasswd -bc .htpasswd bob ***'],
  ['sudo -S <<< hunter2 apt update', 'sudo -S <<< *** apt update'],
  ['chpasswd <<< bob:hunter2', 'chpasswd <<< ***'],
  ['iwr $u -Headers @{Authorization="Bearer abc123"}', 'iwr $u -Headers @{Authorization="Bearer ***"}'],
  // Settings named like a secret, and Authorization headers wherever they stand.
  ['aws configure set aws_secret_access_key abc123', 'aws configure set aws_secret_access_key ***'],
  ['git config --global user.password hunter2', 'git config --global user.password ***'],
  [
    'npm config set //registry.npmjs.org/:_authToken abc123',
    'npm config set //registry.npmjs.org/:_authToken ***',
  ],
  [
    'git -c http.extraHeader="Authorization: Basic abc123" clone x',
    'git -c http.extraHeader="Authorization: Basic ***" clone x',
  ],
];

/**
 * Left as typed, deliberately: `-p`, `-k` and `-cp` of programs known to use them for something
 * else, flags whose names only contain a secret's name, and ordinary arguments.
 */
const KEPT = [
  'mkdir -p /srv/app', // parents
  'ls -p /tmp', // a slash after folders
  'cp -p a b', // preserve
  'ssh -p 2222 bob@host', // port
  'docker run -p 8080:80 nginx', // port; `docker login -p` is masked
  'psql -p 5432 -h db', // port; psql takes its password from PGPASSWORD or a prompt
  'git add -p', // patch
  'patch -p1 < fix.diff',
  'curl -k https://example.com', // insecure, a flag: the URL is not its value
  'sort -k 2 data.txt', // sort key
  'du -k /var', // kibibytes
  'grep -k hunter file', // grep has no -k: its pattern is not an option's value
  'java -cp lib/app.jar Main', // class path
  'tool --password-stdin -u bob', // a flag: the password comes on stdin (the piped echo is masked)
  'tool --no-password -h db', // a flag
  'gpg --keyserver hkps://keys.openpgp.org --recv-keys 0x1234', // not a key, a server and key ids
  'ssh -i ~/.ssh/id_ed25519 --key-file x', // paths to keys are not keys
  'export PATH=/usr/local/bin:$PATH',
  'git clone ssh://git@github.com/x/y.git', // a user name, no password
  'curl -u bob https://host', // curl prompts for the password
  'del /p file.txt', // cmd's /p asks before each file
  'git commit -m "fix the key bug"',
  'kubectl get pods -n kube-system',
  "ls 'my file'",
  'echo hello | grep h', // an echo into a command that reads no password
  'git config core.pager less',
  'cat /etc/passwd', // a file's name is not its content
  'set -e',
  'htpasswd .htpasswd bob', // htpasswd prompts for the password
  'cat <<< hello', // a here-string into a command that reads no password
  'mysqldump -P 3306 -h db', // mysql's -P is the port; its password is -p
];

describe('masking secrets in command lines', () => {
  it('masks secret option values, user:password, secret-named assignments and piped passwords', () => {
    for (const [typed, stored] of MASKED) assert.equal(maskCommand(typed), stored, typed);
  });

  it('leaves harmless options and ordinary arguments as they were typed', () => {
    for (const typed of KEPT) assert.equal(maskCommand(typed), typed, typed);
  });

  it('keeps no secret of the table in what it stores', () => {
    for (const [typed] of MASKED) {
      const stored = maskCommand(typed);
      for (const secret of ['hunter2', 'Hunter2', 'Hunter!2', 'abc123', 'ghp_abc', 's3cr3t', 'P@ss'])
        if (typed.includes(secret)) assert.ok(!stored.includes(secret), `${typed} -> ${stored}`);
    }
  });

  it('never fails, whatever the quoting', () => {
    for (const typed of [
      '',
      ' ',
      '"',
      "'",
      '\\',
      '--password',
      '-p',
      'a "b',
      "x='",
      '--password="',
      '$env:',
      '=',
      '&&',
      '|',
    ])
      assert.equal(typeof maskCommand(typed), 'string', typed);
    assert.equal(maskCommand('tool --password "unterminated secret'), `tool --password ${MASK}`);
  });
});
