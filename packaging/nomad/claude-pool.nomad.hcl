# claude-pool on every Nomad client node: a system job runs one allocation per eligible node, each
# a pool of its own (its sessions, transcripts and tokens stay on that node). Build the image with
# packaging/container/Containerfile and push it where your nodes pull from, then:
#
#   nomad job run -var image=registry.example.internal/claude-pool:0.1.0 claude-pool.nomad.hcl
#
# Each node needs two host volumes in its client config (see the README's "Several hosts"):
#
#   client {
#     host_volume "claude-pool-home" { path = "/var/lib/claude-pool" }     # owned by uid 1000
#     host_volume "claude-pool-tls"  { path = "/etc/claude-pool/tls" read_only = true }
#   }
#
# /var/lib/claude-pool is the pool's home, owned by uid 1000, with claude's onboarding done:
#   install -d -o 1000 -g 1000 /var/lib/claude-pool /var/lib/claude-pool/work
#   echo '{ "hasCompletedOnboarding": true }' | install -o 1000 -g 1000 -m 0600 /dev/stdin /var/lib/claude-pool/.claude.json
# /etc/claude-pool/tls holds tls.crt and tls.key: that node's certificate from your private CA,
# naming the address clients use for it. The API key comes from the Nomad variable
# nomad/jobs/claude-pool (nomad var put nomad/jobs/claude-pool anthropic_api_key=sk-ant-…).

variable "image" {
  type        = string
  description = "The claude-pool container image (packaging/container/Containerfile)"
  default     = "registry.example.internal/claude-pool:0.1.0"
}

job "claude-pool" {
  type        = "system"
  datacenters = ["*"]

  # Only nodes meant for it: set meta { claude_pool = "true" } in their client config.
  constraint {
    attribute = "${meta.claude_pool}"
    value     = "true"
  }

  group "pool" {
    network {
      port "api" {
        static = 3200
        to     = 3200
      }
    }

    volume "home" {
      type   = "host"
      source = "claude-pool-home"
    }

    volume "tls" {
      type      = "host"
      source    = "claude-pool-tls"
      read_only = true
    }

    service {
      name     = "claude-pool"
      provider = "nomad"
      port     = "api"

      check {
        type            = "http"
        protocol        = "https"
        path            = "/health"
        tls_skip_verify = true
        interval        = "30s"
        timeout         = "5s"
      }
    }

    task "claude-pool" {
      driver = "docker"

      config {
        image   = var.image
        ports   = ["api"]
        init    = true
        command = "claude-pool"
        args    = ["start", "--config", "/local/pool.config.json"]
      }

      # SIGTERM stops the sessions and saves the registry; give it the sessions' stop timeout.
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      volume_mount {
        volume      = "home"
        destination = "/home/claude-pool"
      }

      volume_mount {
        volume      = "tls"
        destination = "/etc/claude-pool/tls"
        read_only   = true
      }

      template {
        destination = "local/pool.config.json"
        data        = <<-EOT
          {
            "apiPort": 3200,
            "bind": "0.0.0.0",
            "tls": { "cert": "/etc/claude-pool/tls/tls.crt", "key": "/etc/claude-pool/tls/tls.key" },
            "maxSessions": 5,
            "trustWorkingDirectories": true,
            "defaults": { "workingDirectory": "/home/claude-pool/work" }
          }
        EOT
      }

      template {
        destination = "secrets/claude.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/claude-pool" }}ANTHROPIC_API_KEY={{ .anthropic_api_key }}{{ end }}
        EOT
      }

      resources {
        cpu    = 2000
        memory = 4096
      }
    }
  }
}
